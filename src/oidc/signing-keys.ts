import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { FieldCipher } from '../crypto/field-cipher.js';
import type { Db } from '../store/db.js';

/** ES256 signs by default; RS256 stays available for relying parties that cannot verify EC. */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const ENCRYPTION_CONTEXT = 'signing_keys.private_jwk';

export interface PrivateJwk {
  kid: string;
  alg: string;
  use: 'sig';
  kty: string;
  [member: string]: unknown;
}

export interface KeySet {
  /** Private JWKs in the order oidc-provider should prefer them: active newest first, then pending. */
  keys: PrivateJwk[];
  /** Changes whenever the published or signing keys change; instances compare it to reload. */
  fingerprint: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Off the event loop: an RSA key takes a tenth of a second or more, and requests may be waiting. */
async function generate(alg: SigningAlgorithm): Promise<PrivateJwk> {
  const pair = alg === 'ES256'
    ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, kty: jwk.kty!, kid: `${alg.toLowerCase()}-${randomBytes(9).toString('base64url')}`, alg, use: 'sig' };
}

/**
 * Signing keys live in PostgreSQL, encrypted with the data key, so every instance signs
 * with the same keys and a restart keeps them. Rotation publishes the new key at once,
 * starts signing with it after `activationDelaySeconds` (so every instance and every
 * relying party's JWKS cache has seen it), and keeps the old key published until the
 * last token it signed has expired.
 */
export class SigningKeyStore {
  constructor(private readonly db: Db, private readonly cipher: FieldCipher) {}

  /** Creates a key for every algorithm that has none; safe when several instances start at once. */
  async ensure(): Promise<void> {
    const current = await this.db.selectFrom('signing_keys').select('alg').where('retire_after', 'is', null).execute();
    const held = new Set(current.map((row) => row.alg));
    for (const alg of SIGNING_ALGORITHMS) {
      // Every start but the very first finds its keys: no key is made only to be thrown away.
      if (held.has(alg)) continue;
      const jwk = await generate(alg);
      await this.db.insertInto('signing_keys')
        .values({ kid: jwk.kid, alg, private_jwk: this.cipher.encrypt(JSON.stringify(jwk), ENCRYPTION_CONTEXT) })
        .onConflict((conflict) => conflict.column('alg').where('retire_after', 'is', null).doNothing())
        .execute();
    }
  }

  async load(now = new Date()): Promise<KeySet> {
    const rows = await this.db.selectFrom('signing_keys')
      .select(['kid', 'private_jwk', 'activate_at', 'retire_after'])
      .where((eb) => eb.or([eb('retire_after', 'is', null), eb('retire_after', '>', now)]))
      .orderBy('activate_at', 'desc')
      .orderBy('kid')
      .execute();
    const active = rows.filter((row) => row.activate_at <= now);
    const pending = rows.filter((row) => row.activate_at > now);
    const ordered = [...active, ...pending];
    return {
      keys: ordered.map((row) => JSON.parse(this.cipher.decrypt(row.private_jwk, ENCRYPTION_CONTEXT)) as PrivateJwk),
      fingerprint: ordered.map((row) => `${row.kid}${row.activate_at <= now ? '+' : '~'}`).join(','),
    };
  }

  /**
   * Adds a new key per algorithm. Old keys stay published for `retainSeconds` after the new
   * ones take over: the longest lifetime of anything they signed.
   */
  async rotate(options: { activationDelaySeconds: number; retainSeconds: number }): Promise<string[]> {
    const activateAt = new Date(Date.now() + options.activationDelaySeconds * 1000);
    const retireAfter = new Date(activateAt.getTime() + options.retainSeconds * 1000);
    const fresh = await Promise.all(SIGNING_ALGORITHMS.map(generate));
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('signing_keys').set({ retire_after: retireAfter }).where('retire_after', 'is', null).execute();
      await trx.insertInto('signing_keys').values(fresh.map((jwk) => ({
        kid: jwk.kid,
        alg: jwk.alg,
        private_jwk: this.cipher.encrypt(JSON.stringify(jwk), ENCRYPTION_CONTEXT),
        activate_at: activateAt,
      }))).execute();
    });
    return fresh.map((jwk) => jwk.kid);
  }

  /** Deletes keys no longer published. */
  async purgeRetired(): Promise<number> {
    const result = await this.db.deleteFrom('signing_keys').where('retire_after', '<', sql<Date>`now()`).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
