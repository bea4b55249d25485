import { z } from 'zod';
import { JsonHttpClient, type UpstreamTuning } from '../http-client.js';
import { normalise, type EnterpriseLookup, type Registries } from './types.js';

/**
 * The registries over HTTP, usually through the province's data-sharing exchange. The
 * contract, which this comment documents and test/contract/registries.test.ts keeps:
 *
 *   POST {base}/population/verify      {idNumber, name}                    → {match, status?}
 *   POST {base}/carrier/verify         {idNumber, name, phone}             → {match}
 *   POST {base}/social-security/verify {idNumber, name, cardNumber}        → {match}
 *   POST {base}/bank-card/verify       {idNumber, name, cardNumber, phone} → {match}
 *   POST {base}/housing-fund/verify    {idNumber, name, accountNumber}     → {match}
 *   POST {base}/driving-licence/verify {idNumber, name, fileNumber}        → {match}
 *   POST {base}/business/lookup        {uscc}                              → {found: false} | {found: true, uscc, name, type, status, legalRepresentative}
 *
 * Requests carry values in normal form (types.ts) and `Authorization: Bearer <apiToken>`
 * when a token is set. Every answer is validated; one that does not fit is a failure.
 * Checks only read, so they are retried; each registry has its own circuit, so one
 * failing registry does not stop the others.
 */
export interface HttpRegistriesOptions extends UpstreamTuning {
  baseUrl: string;
}

const matchAnswer = z.object({ match: z.boolean() });

const populationAnswer = z.object({
  match: z.boolean(),
  status: z.enum(['normal', 'deceased', 'cancelled']).optional(),
});

const businessAnswer = z.discriminatedUnion('found', [
  z.object({ found: z.literal(false) }),
  z.object({
    found: z.literal(true),
    uscc: z.string().min(1),
    name: z.string().min(1),
    type: z.enum(['company', 'individual_business', 'social_organization', 'public_institution']),
    status: z.enum(['active', 'revoked', 'cancelled']),
    legalRepresentative: z.object({ name: z.string().min(1), idNumber: z.string().min(1), phone: z.string().min(1) }),
  }),
]);

export function createHttpRegistries(options: HttpRegistriesOptions): Registries {
  const { apiToken, ...shared } = options;
  const client = (name: string) => new JsonHttpClient({
    ...shared,
    upstream: `registry.${name}`,
    ...(apiToken ? { bearerToken: apiToken } : {}),
  });
  const population = client('population');
  const carrier = client('carrier');
  const socialSecurity = client('social-security');
  const bankCard = client('bank-card');
  const housingFund = client('housing-fund');
  const drivingLicence = client('driving-licence');
  const business = client('business');

  const person = (query: { idNumber: string; name: string }) => ({
    idNumber: normalise.idNumber(query.idNumber),
    name: normalise.name(query.name),
  });
  const check = (http: JsonHttpClient, path: string, body: unknown) =>
    http.post(path, body, { schema: matchAnswer, idempotent: true }).then(({ match }) => ({ match }));

  return {
    kind: 'http',
    population: {
      async verifyPerson(query) {
        const answer = await population.post('population/verify', person(query), { schema: populationAnswer, idempotent: true });
        return answer.status === undefined ? { match: answer.match } : { match: answer.match, status: answer.status };
      },
    },
    carrier: {
      verifyPhone: (query) => check(carrier, 'carrier/verify', { ...person(query), phone: normalise.phone(query.phone) }),
    },
    socialSecurity: {
      verifyCard: (query) => check(socialSecurity, 'social-security/verify', {
        ...person(query), cardNumber: normalise.accountNumber(query.cardNumber),
      }),
    },
    bankCard: {
      verifyCard: (query) => check(bankCard, 'bank-card/verify', {
        ...person(query), cardNumber: normalise.accountNumber(query.cardNumber), phone: normalise.phone(query.phone),
      }),
    },
    housingFund: {
      verifyAccount: (query) => check(housingFund, 'housing-fund/verify', {
        ...person(query), accountNumber: normalise.accountNumber(query.accountNumber),
      }),
    },
    drivingLicence: {
      verifyFileNumber: (query) => check(drivingLicence, 'driving-licence/verify', {
        ...person(query), fileNumber: normalise.accountNumber(query.fileNumber),
      }),
    },
    business: {
      async lookupEnterprise(query): Promise<EnterpriseLookup> {
        const answer = await business.post('business/lookup', { uscc: normalise.uscc(query.uscc) }, { schema: businessAnswer, idempotent: true });
        if (!answer.found) return { found: false };
        const { found, uscc, name, type, status, legalRepresentative } = answer;
        return { found, uscc, name, type, status, legalRepresentative: { ...legalRepresentative } };
      },
    },
  };
}
