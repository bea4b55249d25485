import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { idNumberCheckCharacter, parseIdNumber } from '../../identity/id-number.js';
import { parseUscc, usccCheckCharacter } from '../../identity/uscc.js';
import { normalise } from './types.js';

/**
 * The registry simulator's data (REGISTRY_FIXTURES). The format is a contract with
 * operators, who write these files by hand for test environments: keep it stable, and
 * refuse a wrong file loudly, naming every problem, rather than answer "no match" forever.
 */

// The same rules the domain applies to what people type (GB 11643-1999, GB 32100-2015).
// Whoever writes the file by hand is told what the check character should be.
function citizenIdProblem(value: string): string | undefined {
  const parsed = parseIdNumber(value);
  if (parsed.ok) return undefined;
  if (parsed.reason === 'checksum') return `check character should be ${idNumberCheckCharacter(value.slice(0, 17))}`;
  return parsed.reason === 'birth_date' ? `birth date ${value.slice(6, 14)} is not a real date` : 'must be 18 characters: 17 digits and a digit or X';
}

function usccProblem(value: string): string | undefined {
  const parsed = parseUscc(value);
  if (parsed.ok) return undefined;
  return parsed.reason === 'checksum' ? `check character should be ${usccCheckCharacter(value.slice(0, 17))}` : 'must be 18 characters of 0-9 and A-Z without I, O, S, V, Z';
}

const citizenId = z.string().transform(normalise.idNumber).superRefine((value, ctx) => {
  const problem = citizenIdProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid citizen ID number: ${problem}` });
});

const uscc = z.string().transform(normalise.uscc).superRefine((value, ctx) => {
  const problem = usccProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid unified social credit code: ${problem}` });
});

const personName = z.string().transform(normalise.name).pipe(z.string().min(1, 'must not be empty').max(64));
const mobile = z.string().regex(/^1[3-9]\d{9}$/, 'must be an 11-digit mainland mobile number');
const accountNumber = (label: string, pattern: RegExp) =>
  z.string().transform(normalise.accountNumber).pipe(z.string().regex(pattern, `not a valid ${label}`));

// Strict objects: a misspelt key would otherwise drop a factor without a word.
const personSchema = z.strictObject({
  idNumber: citizenId,
  name: personName,
  status: z.enum(['normal', 'deceased', 'cancelled']),
  phones: z.array(mobile).optional(),
  socialSecurityCard: accountNumber('social security card number', /^[0-9A-Za-z]{6,32}$/).optional(),
  bankCards: z.array(z.strictObject({
    number: accountNumber('bank card number', /^\d{12,19}$/),
    phone: mobile,
  })).optional(),
  housingFundAccount: accountNumber('housing fund account number', /^[0-9A-Za-z]{6,32}$/).optional(),
  driverLicenseFileNumber: accountNumber('driving licence file number', /^[0-9A-Za-z]{6,32}$/).optional(),
});

const enterpriseSchema = z.strictObject({
  uscc,
  name: z.string().transform((value) => value.trim()).pipe(z.string().min(1, 'must not be empty').max(200)),
  type: z.enum(['company', 'individual_business', 'social_organization', 'public_institution']),
  status: z.enum(['active', 'revoked', 'cancelled']),
  legalRepresentative: z.strictObject({ name: personName, idNumber: citizenId, phone: mobile }),
});

const registryFixturesSchema = z.strictObject({
  persons: z.array(personSchema),
  enterprises: z.array(enterpriseSchema).default([]),
});

/**
 * Duplicate keys, found on the raw input so that they are reported together with every
 * other problem (zod skips refinements of an object whose members already failed).
 */
function duplicateProblems(raw: unknown): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const scan = (collection: 'persons' | 'enterprises', field: 'idNumber' | 'uscc', canonical: (value: string) => string) => {
    const items = (raw as Record<string, unknown> | null)?.[collection];
    if (!Array.isArray(items)) return;
    const seen = new Set<string>();
    items.forEach((item: unknown, index) => {
      const value = (item as Record<string, unknown> | null)?.[field];
      if (typeof value !== 'string') return;
      const key = canonical(value);
      if (seen.has(key)) problems.push({ path: [collection, index, field], message: `duplicate ${field} ${key}` });
      seen.add(key);
    });
  };
  scan('persons', 'idNumber', normalise.idNumber);
  scan('enterprises', 'uscc', normalise.uscc);
  return problems;
}

/** Loaded fixtures, with every value already in its normal form. */
export type RegistryFixtures = z.output<typeof registryFixturesSchema>;
export type FixturePerson = RegistryFixtures['persons'][number];
export type FixtureEnterprise = RegistryFixtures['enterprises'][number];

export class RegistryFixturesError extends Error {
  override readonly name = 'RegistryFixturesError';
}

/** Validates already-parsed JSON; `source` names it in the error. */
export function parseRegistryFixtures(raw: unknown, source: string): RegistryFixtures {
  const parsed = registryFixturesSchema.safeParse(raw);
  const problems = [...(parsed.success ? [] : parsed.error.issues), ...duplicateProblems(raw)]
    .map((issue) => `${source} [${issue.path.join('.') || '(root)'}]: ${issue.message}`);
  if (!parsed.success || problems.length > 0) {
    throw new RegistryFixturesError(`invalid registry fixtures\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** Reads and validates a fixtures file; throws RegistryFixturesError naming the file and every problem. */
export async function loadRegistryFixtures(file: string): Promise<RegistryFixtures> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RegistryFixturesError(`invalid registry fixtures\n${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseRegistryFixtures(raw, file);
}
