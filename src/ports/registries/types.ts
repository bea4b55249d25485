/**
 * The external registries a person's real name is checked against, as the domain sees
 * them. Every method either answers or throws UpstreamUnavailableError (ports/errors.ts);
 * "no match" is an answer, never an error.
 *
 * A match says only that the given facts belong together in that registry; deciding what
 * a deceased person's or a revoked enterprise's record means is the domain's business.
 */

export type PersonStatus = 'normal' | 'deceased' | 'cancelled';

export interface PersonQuery {
  idNumber: string;
  name: string;
}

export interface MatchResult {
  match: boolean;
}

export interface PersonVerification extends MatchResult {
  /** Present only when the registry knows the ID number, whether or not the name matched. */
  status?: PersonStatus;
}

/** The population registry (公安人口库): does this ID number belong to this name? */
export interface PopulationRegistry {
  verifyPerson(query: PersonQuery): Promise<PersonVerification>;
}

/** The mobile carriers (运营商三要素): is this phone registered in this person's real name? */
export interface CarrierRegistry {
  verifyPhone(query: PersonQuery & { phone: string }): Promise<MatchResult>;
}

/** Social security (社保卡): is this card this person's? */
export interface SocialSecurityRegistry {
  verifyCard(query: PersonQuery & { cardNumber: string }): Promise<MatchResult>;
}

/** Bank card four-element check (银行卡四要素): the card is the person's and its reserved phone is this one. */
export interface BankCardRegistry {
  verifyCard(query: PersonQuery & { cardNumber: string; phone: string }): Promise<MatchResult>;
}

/** Housing provident fund (住房公积金): is this account the person's? */
export interface HousingFundRegistry {
  verifyAccount(query: PersonQuery & { accountNumber: string }): Promise<MatchResult>;
}

/** Traffic police (驾驶证档案编号): is this licence file number the person's? */
export interface DrivingLicenceRegistry {
  verifyFileNumber(query: PersonQuery & { fileNumber: string }): Promise<MatchResult>;
}

export type EnterpriseType = 'company' | 'individual_business' | 'social_organization' | 'public_institution';
export type EnterpriseStatus = 'active' | 'revoked' | 'cancelled';

export interface LegalRepresentative {
  name: string;
  idNumber: string;
  phone: string;
}

export interface Enterprise {
  uscc: string;
  name: string;
  type: EnterpriseType;
  status: EnterpriseStatus;
  legalRepresentative: LegalRepresentative;
}

export type EnterpriseLookup = { found: false } | ({ found: true } & Enterprise);

/** The market-regulation register (企业信用信息): who is this unified social credit code? */
export interface BusinessRegistry {
  lookupEnterprise(query: { uscc: string }): Promise<EnterpriseLookup>;
}

export interface Registries {
  readonly kind: 'simulator' | 'http';
  readonly population: PopulationRegistry;
  readonly carrier: CarrierRegistry;
  readonly socialSecurity: SocialSecurityRegistry;
  readonly bankCard: BankCardRegistry;
  readonly housingFund: HousingFundRegistry;
  readonly drivingLicence: DrivingLicenceRegistry;
  readonly business: BusinessRegistry;
}

/**
 * Matching is exact on these normal forms; they are part of the contract, so the
 * simulator indexes by them and the http adapter sends them. They only canonicalise:
 * validating a value (check characters, birth dates) is the domain's job, before any call.
 */
export const normalise = {
  /** Upper case, so a trailing x equals X. */
  idNumber: (value: string): string => value.trim().toUpperCase(),
  /** Surrounding white space (including the full-width space) removed. */
  name: (value: string): string => value.trim(),
  /** 11 digits: spaces and dashes removed, then a leading +86 or 86 country code. */
  phone: (value: string): string => {
    const compact = value.replace(/[\s-]/g, '');
    return compact.replace(/^(?:\+86|86)(?=\d{11}$)/, '');
  },
  /** Card and account numbers without white space. */
  accountNumber: (value: string): string => value.replace(/\s/g, ''),
  /** Upper case, as the code's alphabet is. */
  uscc: (value: string): string => value.trim().toUpperCase(),
};
