import { sql } from 'kysely';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../../store/db.js';
import { forgetInRequest, leaveForRequest, takeFromRequest } from '../../request-scope.js';
import { accountStore, claimsSourceKey, type ClaimsSource } from '../../identity/account-store.js';
import { rotationInRequest } from '../refresh-rotation.js';

/** A refresh token is always followed by its Grant: one query reads both (see `find`). */
const GRANT_LEFT_FOR_REQUEST = (grantId: string) => `oidc:Grant:${grantId}`;

/**
 * Grants and refresh tokens in PostgreSQL: an app's thirty-day login must survive a
 * cache flush. Expired rows are invisible at once and deleted by `purgeExpiredArtifacts`.
 */
export class DurableArtifacts implements Adapter {
  /** `refreshReuseSeconds`: how long after its rotation a refresh token is honoured once more (0: never; see oidc/refresh-rotation.ts). */
  constructor(private readonly db: Db, private readonly model: string, private readonly options: { refreshReuseSeconds?: number } = {}) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    if (this.model === 'Grant') forgetInRequest(GRANT_LEFT_FOR_REQUEST(id));
    const rotation = this.model === 'RefreshToken' ? rotationInRequest() : undefined;
    const previous = rotation?.consumed;
    if (rotation && previous) {
      rotation.consumed = undefined;
      await this.insertSuccessor(previous, id, payload, expiresIn);
      return;
    }
    const row = {
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      account_id: payload.accountId ?? null,
      uid: payload.uid ?? null,
      user_code: payload.userCode ?? null,
      expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    await this.db.insertInto('oidc_artifacts')
      .values({ model: this.model, id, ...row })
      .onConflict((conflict) => conflict.columns(['model', 'id']).doUpdateSet(row))
      .execute();
  }

  private async findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
    const row = await this.db.selectFrom('oidc_artifacts')
      .select(['payload', 'consumed_at'])
      .where('model', '=', this.model)
      .where(column, '=', value)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .executeTakeFirst();
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
  }

  async find(id: string) {
    if (this.model === 'Grant') {
      const left = takeFromRequest<AdapterPayload | null>(GRANT_LEFT_FOR_REQUEST(id));
      if (left !== undefined) return left ?? undefined;
    }
    if (this.model === 'RefreshToken' || this.model === 'Grant') return this.findWithCompanions(id);
    return this.findWhere('id', id);
  }

  /**
   * oidc-provider reads a refresh token's Grant right after the token, and then the account
   * (findAccount), on every refresh; userinfo reads a Grant and then its account. One query
   * reads them together, saving round trips on the busiest requests; what comes along is
   * left for the next read within the same request only (request-scope.ts).
   */
  private async findWithCompanions(id: string): Promise<AdapterPayload | undefined> {
    const live = (alias: 'token' | 'grant') => sql<boolean>`(${sql.ref(`${alias}.expires_at`)} is null or ${sql.ref(`${alias}.expires_at`)} > now())`;
    // A Grant's own row has no grant_id, so for a Grant the join finds nothing.
    const row = await this.db.selectFrom('oidc_artifacts as token')
      .leftJoin('oidc_artifacts as grant', (join) => join
        .on('grant.model', '=', 'Grant')
        .onRef('grant.id', '=', 'token.grant_id')
        .on(live('grant')))
      .select([
        'token.payload', 'token.consumed_at', 'token.grant_id', 'token.account_id', 'grant.payload as grant_payload',
        accountStore.claimsSourceOf(sql.ref('token.account_id')).as('account_claims'),
      ])
      .where('token.model', '=', this.model)
      .where('token.id', '=', id)
      .where(live('token'))
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.grant_id) leaveForRequest(GRANT_LEFT_FOR_REQUEST(row.grant_id), (row.grant_payload as AdapterPayload | null) ?? null);
    if (row.account_id) leaveForRequest(claimsSourceKey(row.account_id), (row.account_claims as ClaimsSource | null) ?? null);
    const payload = row.payload as AdapterPayload;
    if (!row.consumed_at) return payload;
    // Rotated: oidc-provider treats it as a replay and revokes the login, unless it is
    // honoured once more (a retry of a refresh whose answer was lost, or a duplicate).
    if (this.model === 'RefreshToken' && await this.honouredAgain(id)) return payload;
    return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
  }

  /**
   * Whether a rotated refresh token is honoured once more in this request: only at the
   * token endpoint, within the reuse interval after its rotation, and only while its
   * successor (if it has one yet) is unused and live. Marks the request when it is.
   */
  private async honouredAgain(id: string): Promise<boolean> {
    const rotation = rotationInRequest();
    const seconds = this.options.refreshReuseSeconds ?? 0;
    if (!rotation || seconds <= 0) return false;
    const row = await this.db.selectFrom('oidc_artifacts as token')
      .leftJoin('oidc_artifacts as successor', (join) => join
        .onRef('successor.model', '=', 'token.model')
        .onRef('successor.id', '=', 'token.successor_id')
        .on((eb) => eb.or([eb('successor.expires_at', 'is', null), eb('successor.expires_at', '>', sql<Date>`now()`)])))
      .select([
        'token.successor_id',
        sql<boolean>`token.consumed_at > now() - make_interval(secs => ${seconds})`.as('recent'),
        sql<boolean>`successor.id is not null and successor.consumed_at is null`.as('successor_unused'),
      ])
      .where('token.model', '=', this.model)
      .where('token.id', '=', id)
      .executeTakeFirst();
    if (!row?.recent || (row.successor_id !== null && !row.successor_unused)) return false;
    rotation.retried = id;
    return true;
  }

  /**
   * Saves a rotation's new refresh token as the successor of the one it replaces, in one
   * statement: the link is made only if the old token has no successor yet, and the new
   * token is inserted only if the link was made. A second rotation of the same token (a
   * retry, a duplicate, racing or not) therefore inserts nothing, and its answer carries
   * the successor that exists (oidc/refresh-rotation.ts rewrites it).
   */
  private async insertSuccessor(previous: string, id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    const inserted = await sql<{ id: string }>`
      with link as (
        update oidc_artifacts set successor_id = ${id}
        where model = ${this.model} and id = ${previous} and successor_id is null
        returning id
      )
      insert into oidc_artifacts (model, id, payload, grant_id, account_id, uid, user_code, expires_at)
      select ${this.model}, ${id}, ${JSON.stringify(payload)}::jsonb, ${payload.grantId ?? null}, ${payload.accountId ?? null},
        ${payload.uid ?? null}, ${payload.userCode ?? null}, ${expiresAt}::timestamptz
      from link
      returning id`.execute(this.db);
    if (inserted.rows.length > 0) return;
    const existing = await this.db.selectFrom('oidc_artifacts').select('successor_id')
      .where('model', '=', this.model).where('id', '=', previous).executeTakeFirst();
    // The old token is gone: its login was revoked meanwhile.
    if (!existing?.successor_id) throw new errors.InvalidGrant('refresh token revoked');
    rotationInRequest()!.answer = { minted: id, successor: existing.successor_id };
  }

  findByUid(uid: string) {
    return this.findWhere('uid', uid);
  }

  findByUserCode(userCode: string) {
    return this.findWhere('user_code', userCode);
  }

  /** The same read as `find`, its result left for the request as well. */
  async readForRequest(id: string): Promise<void> {
    const payload = await this.findWithCompanions(id);
    leaveForRequest(GRANT_LEFT_FOR_REQUEST(id), payload ?? null);
  }

  /**
   * Atomic: a conditional update, so of concurrent rotations of one refresh token exactly
   * one consumes it. Another may still go on, honouring it once more, if the rules allow:
   * it then answers with the same successor (`insertSuccessor`).
   */
  async consume(id: string) {
    const result = await this.db.updateTable('oidc_artifacts')
      .set({ consumed_at: sql`now()` })
      .where('model', '=', this.model)
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    const rotation = this.model === 'RefreshToken' ? rotationInRequest() : undefined;
    if (result.numUpdatedRows === 0n && !(rotation && (rotation.retried === id || await this.honouredAgain(id)))) {
      throw new errors.InvalidGrant(`${this.model} already consumed`);
    }
    if (rotation) rotation.consumed = id;
  }

  async destroy(id: string) {
    if (this.model === 'Grant') forgetInRequest(GRANT_LEFT_FOR_REQUEST(id));
    await this.db.deleteFrom('oidc_artifacts').where('model', '=', this.model).where('id', '=', id).execute();
  }

  async revokeByGrantId(grantId: string) {
    await this.db.deleteFrom('oidc_artifacts').where('model', '=', this.model).where('grant_id', '=', grantId).execute();
  }
}

/**
 * Reads a Grant with its account's claims source and leaves both for the rest of the
 * request: findAccount calls it when it is handed a token, since userinfo asks for the
 * account first and the token's Grant right after.
 */
export function readGrantWithAccount(db: Db, grantId: string): Promise<unknown> {
  return new DurableArtifacts(db, 'Grant').readForRequest(grantId);
}

/** A durable artifact as far as revoking it needs: the grant it belongs to and the client holding it. */
export interface ArtifactHolder {
  model: string;
  id: string;
  grant_id: string | null;
  payload: Record<string, unknown>;
  expires_at: Date | null;
}

/** The grant an artifact row is (a Grant) or belongs to (a RefreshToken). */
export function grantOf(row: Pick<ArtifactHolder, 'model' | 'id' | 'grant_id'>): string | undefined {
  return (row.model === 'Grant' ? row.id : row.grant_id) ?? undefined;
}

/** The clients holding unexpired grants or refresh tokens among `rows`. */
export function holdingClients(rows: ArtifactHolder[], now = new Date()): string[] {
  return [...new Set(rows.filter((row) => !row.expires_at || row.expires_at > now)
    .map((row) => row.payload.clientId).filter((id): id is string => typeof id === 'string'))];
}

/**
 * Deletes every durable artifact (grants, refresh tokens) of an account; returns the grant
 * ids, and the clients that held a live one (to be told, even without a session).
 */
export async function destroyAccountArtifacts(db: Db, accountId: string): Promise<{ grants: string[]; clients: string[] }> {
  const rows = await db.deleteFrom('oidc_artifacts').where('account_id', '=', accountId)
    .returning(['model', 'id', 'grant_id', 'payload', 'expires_at']).execute();
  return {
    grants: [...new Set(rows.map(grantOf).filter((id): id is string => Boolean(id)))],
    clients: holdingClients(rows),
  };
}

/** Deletes durable artifacts past their expiry; returns how many. */
export async function purgeExpiredArtifacts(db: Db): Promise<number> {
  const result = await db.deleteFrom('oidc_artifacts').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
