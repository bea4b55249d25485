import type { Dependencies } from '../../src/deps.js';
import { hashPassword } from '../../src/identity/password-hash.js';
import { maskPhone } from '../../src/identity/masking.js';

export const PASSWORD = 'Civic-Idp-2026!';

/** Persons of config/fixtures/registries.example.json. */
export const ZHANG_SAN = { idNumber: '11010519491231002X', name: '张三', phone: '13800138000' };

/**
 * One argon2id hash per password and test process: every seeded account with the same
 * password may share it (a real hash, verified the real way), and a test file seeding a
 * hundred accounts spends one hash instead of a hundred.
 */
const hashes = new Map<string, Promise<string>>();
function hashOnce(password: string): Promise<string> {
  let hash = hashes.get(password);
  if (!hash) {
    hash = hashPassword(password);
    hashes.set(password, hash);
  }
  return hash;
}

/** Puts an account straight into the store, as a completed registration would (without a phone, when the person has none). */
export async function seedAccount(deps: Dependencies, person: { idNumber: string; name: string; phone?: string }, options: { password?: string; mustChange?: boolean; level?: 2 | 3 } = {}): Promise<string> {
  return deps.accounts.create({
    idNumber: person.idNumber,
    name: person.name,
    phone: person.phone,
    passwordHash: await hashOnce(options.password ?? PASSWORD),
    passwordMustChange: options.mustChange ?? false,
    assuranceLevel: options.level ?? 2,
    channel: 'online',
    agreementVersion: 'test',
    factors: person.phone ? [{ kind: 'phone', normalised: person.phone, masked: maskPhone(person.phone) }] : [],
  }, {});
}
