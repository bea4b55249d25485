import { AppError } from '../errors.js';
import type { VerifiedFactor } from '../identity/accounts.js';
import { maskAccountNumber, maskCardNumber } from '../identity/masking.js';
import { normalisePhone } from '../identity/phone.js';
import { isUpstreamUnavailable } from '../ports/errors.js';
import type { PersonQuery, Registries } from '../ports/registries/index.js';
import type { FactorKind } from '../store/schema.js';

/** Further factors besides the phone, each verified against its own registry. */
export type DocumentFactorKind = Exclude<FactorKind, 'phone'>;

export interface DocumentFactorInput {
  kind: DocumentFactorKind;
  number: string;
  /** The phone the bank holds for the card (bank cards only). */
  reservedPhone?: string;
}

/** A registry call whose unavailability becomes `registry_unavailable`; "no match" stays an answer. */
export async function consultRegistry<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isUpstreamUnavailable(error)) throw new AppError('registry_unavailable', {}, { cause: error });
    throw error;
  }
}

/**
 * Checks one document factor of a person (whose ID number and name are already proven)
 * against its registry: registration uses it for new accounts, phone re-binding to let a
 * person who lost their phone prove themselves again. Throws `factor_mismatch` when the
 * registry does not confirm it; returns the factor in the form accounts record.
 */
export async function verifyDocumentFactor(registries: Registries, person: PersonQuery, input: DocumentFactorInput): Promise<VerifiedFactor> {
  const number = input.number.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[0-9A-Z]{4,32}$/.test(number)) throw new AppError('invalid_input', { field: 'number' });
  const query = { idNumber: person.idNumber, name: person.name };
  let masked: string;
  let match: boolean;
  switch (input.kind) {
    case 'bank_card': {
      const reserved = normalisePhone(input.reservedPhone ?? '');
      if (!reserved) throw new AppError('invalid_phone');
      ({ match } = await consultRegistry(() => registries.bankCard.verifyCard({ ...query, cardNumber: number, phone: reserved })));
      masked = maskCardNumber(number);
      break;
    }
    case 'social_security_card':
      ({ match } = await consultRegistry(() => registries.socialSecurity.verifyCard({ ...query, cardNumber: number })));
      masked = maskAccountNumber(number);
      break;
    case 'housing_fund':
      ({ match } = await consultRegistry(() => registries.housingFund.verifyAccount({ ...query, accountNumber: number })));
      masked = maskAccountNumber(number);
      break;
    case 'driving_licence':
      ({ match } = await consultRegistry(() => registries.drivingLicence.verifyFileNumber({ ...query, fileNumber: number })));
      masked = maskAccountNumber(number);
      break;
    default:
      throw new AppError('invalid_input', { field: 'kind' });
  }
  if (!match) throw new AppError('factor_mismatch');
  return { kind: input.kind, normalised: number, masked };
}
