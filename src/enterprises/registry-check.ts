import { AppError } from '../errors.js';
import { consultRegistry } from '../flows/factor-checks.js';
import type { AccountProfile } from '../identity/accounts.js';
import { sameName } from '../identity/person-name.js';
import { parseUscc } from '../identity/uscc.js';
import { normalise, type Enterprise, type Registries } from '../ports/registries/index.js';

/** A code that has passed GB 32100-2015, in its normal form; throws `invalid_uscc` otherwise. */
export function validUscc(input: string): string {
  const parsed = parseUscc(input);
  if (!parsed.ok) throw new AppError('invalid_uscc', { reason: parsed.reason });
  return parsed.value;
}

/**
 * What the business register says about a code. The code is checked first: a mistyped
 * code never reaches the registry. `registry_unavailable` when it cannot be asked.
 */
export async function lookUp(registries: Registries, uscc: string): Promise<({ found: true } & Enterprise) | { found: false }> {
  const code = validUscc(uscc);
  return consultRegistry(() => registries.business.lookupEnterprise({ uscc: code }));
}

/**
 * The register's entry for a registration: it must exist, be active, and bear the name
 * typed (white space and full-width forms aside). Each failure has its own error.
 */
export async function activeEntry(registries: Registries, uscc: string, name: string): Promise<Enterprise> {
  const entry = await lookUp(registries, uscc);
  if (!entry.found) throw new AppError('enterprise_not_in_registry');
  if (entry.status !== 'active') throw new AppError('enterprise_not_active', { status: entry.status });
  if (!sameName(entry.name, name)) throw new AppError('enterprise_name_mismatch');
  const { found: _found, ...enterprise } = entry;
  return enterprise;
}

/** Whether the register names this person (ID number and name) as the legal representative. */
export function isRepresentative(entry: Enterprise, person: Pick<AccountProfile, 'idNumber' | 'name'>): boolean {
  return normalise.idNumber(entry.legalRepresentative.idNumber) === normalise.idNumber(person.idNumber)
    && sameName(entry.legalRepresentative.name, person.name);
}
