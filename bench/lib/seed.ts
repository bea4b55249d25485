import { randomUUID } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import type { DatabaseConfig } from '../../src/config/load.js';
import { parseBlindIndexKey, parseDataKeys } from '../../src/config/secrets.js';
import { KeyedDigest } from '../../src/crypto/digest.js';
import { FieldCipher } from '../../src/crypto/field-cipher.js';
import { maskPhone } from '../../src/identity/masking.js';
import { usccCheckCharacter } from '../../src/identity/uscc.js';
import { hashPassword } from '../../src/identity/password-hash.js';
import { PersonalData } from '../../src/identity/personal-data.js';
import { openDatabase } from '../../src/store/db.js';
import type { AccountFactorsTable, AccountsTable } from '../../src/store/schema.js';
import { BENCH_PASSWORD, personOf } from './people.js';

const BATCH = 1_000;

export interface SeedResult {
  accounts: number;
  seconds: number;
}

/**
 * Puts `count` active accounts straight into the `accounts` table, as completed
 * registrations leave them: personal data sealed and blind-indexed with the run's keys
 * (the same code the server uses), one argon2id hash at the configured parameters
 * shared by all (verifying it costs what verifying any other would), and the phone
 * factor. Migrates the schema first; the server then finds it up to date.
 */
export async function seedAccounts(
  database: DatabaseConfig,
  secrets: { DATA_ENCRYPTION_KEYS: string; BLIND_INDEX_KEY: string },
  count: number,
  progress: (done: number) => void = () => {},
): Promise<SeedResult> {
  const started = performance.now();
  const personal = new PersonalData(new FieldCipher(parseDataKeys(secrets.DATA_ENCRYPTION_KEYS)), new KeyedDigest(parseBlindIndexKey(secrets.BLIND_INDEX_KEY)));
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const handle = await openDatabase(database);
  try {
    await handle.migrate('up');
    const now = new Date();
    const insertBatch = async (from: number) => {
      const accounts: Insertable<AccountsTable>[] = [];
      const factors: Insertable<AccountFactorsTable>[] = [];
      for (let index = from; index < Math.min(from + BATCH, count); index += 1) {
        const person = personOf(index);
        const id = randomUUID();
        accounts.push({
          id,
          status: 'active',
          assurance_level: 2,
          registration_channel: 'online',
          id_number_enc: personal.seal('id_number', person.idNumber),
          id_number_idx: personal.index('id_number', person.idNumber),
          name_enc: personal.seal('name', person.name),
          phone_enc: personal.seal('phone', person.phone),
          phone_idx: personal.index('phone', person.phone),
          password_hash: passwordHash,
          password_must_change: false,
          password_changed_at: now,
          agreement_version: 'bench',
          agreement_accepted_at: now,
        });
        factors.push({ account_id: id, kind: 'phone', value_idx: personal.index('phone', person.phone), masked: maskPhone(person.phone) });
      }
      await handle.db.transaction().execute(async (trx) => {
        await trx.insertInto('accounts').values(accounts).execute();
        await trx.insertInto('account_factors').values(factors).execute();
      });
    };
    // PostgreSQL takes a few batches at once (sealing overlaps the round trips); PGlite one.
    const width = database.kind === 'postgres' ? 3 : 1;
    let next = 0;
    let done = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < count) {
        const from = next;
        next += BATCH;
        await insertBatch(from);
        done += Math.min(BATCH, count - from);
        progress(done);
      }
    }));
    await sql`analyze accounts`.execute(handle.db);
    await sql`analyze account_factors`.execute(handle.db);
  } finally {
    await handle.close();
  }
  return { accounts: count, seconds: (performance.now() - started) / 1000 };
}

/** Where delegated-login finds its delegates: the last `count` seeded accounts. */
export interface DelegatesRange {
  from: number;
  count: number;
}

/**
 * For delegated-login: one enterprise, represented by an extra account beyond the seeded
 * range, that grants each of the last `count` seeded accounts level-1 authority for the
 * portal's service items, valid now. Rows go in as the delegation service leaves them.
 */
export async function seedDelegations(
  database: DatabaseConfig,
  secrets: { DATA_ENCRYPTION_KEYS: string; BLIND_INDEX_KEY: string },
  accounts: number,
  clientId: string,
  serviceItems: string[],
): Promise<DelegatesRange> {
  const personal = new PersonalData(new FieldCipher(parseDataKeys(secrets.DATA_ENCRYPTION_KEYS)), new KeyedDigest(parseBlindIndexKey(secrets.BLIND_INDEX_KEY)));
  const range = { count: Math.min(5_000, Math.floor(accounts / 2)), from: 0 };
  range.from = accounts - range.count;
  const handle = await openDatabase(database);
  try {
    const representative = personOf(accounts);
    const representativeId = randomUUID();
    const enterpriseId = randomUUID();
    const first17 = '91350100MA0BENCH0';
    const now = new Date();
    await handle.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values({
        id: representativeId, status: 'active', assurance_level: 2, registration_channel: 'online',
        id_number_enc: personal.seal('id_number', representative.idNumber), id_number_idx: personal.index('id_number', representative.idNumber),
        name_enc: personal.seal('name', representative.name),
        phone_enc: personal.seal('phone', representative.phone), phone_idx: personal.index('phone', representative.phone),
        password_hash: await hashPassword(BENCH_PASSWORD), password_must_change: false, agreement_version: 'bench', agreement_accepted_at: now,
      }).execute();
      await trx.insertInto('enterprises').values({
        id: enterpriseId, uscc: first17 + usccCheckCharacter(first17), name: '基准测试示例有限公司', type: 'company', status: 'active',
        registry_status: 'active', registry_checked_at: now, registry_representative_idx: personal.index('id_number', representative.idNumber),
        representative_account_id: representativeId, representative_since: now,
      }).execute();
      const ids = await trx.selectFrom('accounts').select('id').where('id_number_idx', 'in',
        Array.from({ length: range.count }, (_, i) => personal.index('id_number', personOf(range.from + i).idNumber))).execute();
      for (let start = 0; start < ids.length; start += BATCH) {
        await trx.insertInto('delegation_grants').values(ids.slice(start, start + BATCH).map(({ id }) => ({
          id: randomUUID(), enterprise_id: enterpriseId, parent_id: null, grantor_account_id: representativeId, grantee_account_id: id,
          level: 1, scope: JSON.stringify([{ client_id: clientId, service_items: serviceItems }]),
          valid_from: new Date(now.getTime() - 86_400_000), valid_until: new Date(now.getTime() + 30 * 86_400_000),
          may_redelegate: false, status: 'active' as const,
        }))).execute();
      }
    });
    await sql`analyze delegation_grants`.execute(handle.db);
  } finally {
    await handle.close();
  }
  return range;
}
