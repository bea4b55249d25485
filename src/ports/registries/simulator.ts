import type { FixtureEnterprise, FixturePerson, RegistryFixtures } from './fixtures.js';
import { normalise, type EnterpriseLookup, type PersonQuery, type Registries } from './types.js';

/**
 * All seven registries answered from fixtures, for development, tests and the bench.
 * Fixture values arrive in normal form (fixtures.ts); queries are normalised here, so
 * both sides of every comparison follow the same rules as the real adapter's upstream.
 */
export function createSimulatorRegistries(fixtures: RegistryFixtures): Registries {
  const persons = new Map<string, FixturePerson>(fixtures.persons.map((person) => [person.idNumber, person]));
  const enterprises = new Map<string, FixtureEnterprise>(fixtures.enterprises.map((enterprise) => [enterprise.uscc, enterprise]));

  /** The person whose ID number and name both match, if any. */
  const person = (query: PersonQuery): FixturePerson | undefined => {
    const found = persons.get(normalise.idNumber(query.idNumber));
    return found && found.name === normalise.name(query.name) ? found : undefined;
  };

  return {
    kind: 'simulator',
    population: {
      async verifyPerson(query) {
        const known = persons.get(normalise.idNumber(query.idNumber));
        if (!known) return { match: false };
        return { match: known.name === normalise.name(query.name), status: known.status };
      },
    },
    carrier: {
      async verifyPhone(query) {
        const phone = normalise.phone(query.phone);
        return { match: person(query)?.phones?.includes(phone) ?? false };
      },
    },
    socialSecurity: {
      async verifyCard(query) {
        const card = person(query)?.socialSecurityCard;
        return { match: card !== undefined && card === normalise.accountNumber(query.cardNumber) };
      },
    },
    bankCard: {
      async verifyCard(query) {
        const number = normalise.accountNumber(query.cardNumber);
        const phone = normalise.phone(query.phone);
        const cards = person(query)?.bankCards ?? [];
        return { match: cards.some((card) => card.number === number && card.phone === phone) };
      },
    },
    housingFund: {
      async verifyAccount(query) {
        const account = person(query)?.housingFundAccount;
        return { match: account !== undefined && account === normalise.accountNumber(query.accountNumber) };
      },
    },
    drivingLicence: {
      async verifyFileNumber(query) {
        const fileNumber = person(query)?.driverLicenseFileNumber;
        return { match: fileNumber !== undefined && fileNumber === normalise.accountNumber(query.fileNumber) };
      },
    },
    business: {
      async lookupEnterprise(query): Promise<EnterpriseLookup> {
        const found = enterprises.get(normalise.uscc(query.uscc));
        if (!found) return { found: false };
        // A copy: callers must not be able to change the fixtures.
        return { found: true, ...found, legalRepresentative: { ...found.legalRepresentative } };
      },
    },
  };
}
