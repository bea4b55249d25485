import type { Dependencies } from '../../src/deps.js';
import { hashPassword } from '../../src/identity/password-hash.js';
import { maskPhone } from '../../src/identity/masking.js';

export const PASSWORD = 'Civic-Idp-2026!';

/** Persons of config/fixtures/registries.example.json. */
export const ZHANG_SAN = { idNumber: '11010519491231002X', name: '张三', phone: '13800138000' };

/** Puts an account straight into the store, as a completed registration would. */
export async function seedAccount(deps: Dependencies, person: { idNumber: string; name: string; phone: string }, options: { password?: string; mustChange?: boolean; level?: 2 | 3 } = {}): Promise<string> {
  return deps.accounts.create({
    idNumber: person.idNumber,
    name: person.name,
    phone: person.phone,
    passwordHash: await hashPassword(options.password ?? PASSWORD),
    passwordMustChange: options.mustChange ?? false,
    assuranceLevel: options.level ?? 2,
    channel: 'online',
    agreementVersion: 'test',
    factors: [{ kind: 'phone', normalised: person.phone, masked: maskPhone(person.phone) }],
  }, {});
}
