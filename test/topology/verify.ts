import { AuditLog } from '../../src/audit/audit-log.js';
import type { DatabaseHandle } from '../../src/store/db.js';

export interface LossReport {
  /** Refresh tokens a client received that are not on record. */
  missingRefreshTokens: number;
  /** Grants of those tokens that are not on record. */
  missingGrants: number;
  /** Accounts of those grants, or seeded accounts, that are not on record. */
  missingAccounts: number;
  /** Logins a client saw succeed with no `login` success record for their account. */
  unauditedLogins: number;
  /** The audit log's hash chain, recomputed: a lost or altered record breaks it. */
  auditChain: string;
  checked: { refreshTokens: number; logins: number; accounts: number; auditRecords: number };
}

const BATCH = 500;

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/**
 * What the clients were given must be in the database that survived the failover: every
 * refresh token they received (consumed or not), its grant, its account, every seeded
 * account, and an audit record of every login they saw succeed; and the audit chain must
 * verify.
 */
export async function checkNothingLost(handle: DatabaseHandle, issued: { refreshTokens: string[]; loginTokens: string[]; seededAccounts: number }): Promise<LossReport> {
  const { db } = handle;
  const rows = new Map<string, { grant_id: string | null; account_id: string | null }>();
  for (const ids of batches([...new Set(issued.refreshTokens)])) {
    const found = await db.selectFrom('oidc_artifacts').select(['id', 'grant_id', 'account_id'])
      .where('model', '=', 'RefreshToken').where('id', 'in', ids).execute();
    for (const row of found) rows.set(row.id, row);
  }
  const grantIds = [...new Set([...rows.values()].map((row) => row.grant_id).filter((id): id is string => Boolean(id)))];
  let grantsFound = 0;
  for (const ids of batches(grantIds)) {
    grantsFound += (await db.selectFrom('oidc_artifacts').select('id').where('model', '=', 'Grant').where('id', 'in', ids).execute()).length;
  }
  const accountIds = [...new Set([...rows.values()].map((row) => row.account_id).filter((id): id is string => Boolean(id)))];
  let accountsFound = 0;
  for (const ids of batches(accountIds)) {
    accountsFound += (await db.selectFrom('accounts').select('id').where('id', 'in', ids).execute()).length;
  }
  const seeded = Number((await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  // Each login was by an account of its own until the seeded ones ran out; count per account.
  const loginsPerAccount = new Map<string, number>();
  let loginsWithoutRow = 0;
  for (const token of issued.loginTokens) {
    const account = rows.get(token)?.account_id;
    if (!account) loginsWithoutRow += 1;
    else loginsPerAccount.set(account, (loginsPerAccount.get(account) ?? 0) + 1);
  }
  let unaudited = loginsWithoutRow;
  for (const ids of batches([...loginsPerAccount.keys()])) {
    const audited = await db.selectFrom('audit_log').select(['actor_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('action', '=', 'login').where('result', '=', 'success').where('actor_id', 'in', ids)
      .groupBy('actor_id').execute();
    const counts = new Map(audited.map((row) => [row.actor_id, Number(row.n)]));
    for (const id of ids) unaudited += Math.max(0, loginsPerAccount.get(id)! - (counts.get(id) ?? 0));
  }

  const chain = await new AuditLog(db).verify();
  return {
    missingRefreshTokens: new Set(issued.refreshTokens).size - rows.size,
    missingGrants: grantIds.length - grantsFound,
    missingAccounts: (accountIds.length - accountsFound) + Math.max(0, issued.seededAccounts - seeded),
    unauditedLogins: unaudited,
    auditChain: chain.ok ? `ok (${chain.count} records)` : `broken at ${chain.brokenAt}: ${chain.reason}`,
    checked: { refreshTokens: new Set(issued.refreshTokens).size, logins: issued.loginTokens.length, accounts: seeded, auditRecords: chain.count },
  };
}
