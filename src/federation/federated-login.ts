import { randomUUID } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import { credentialStamp, type FirstFactorResult } from '../identity/authentication.js';
import { accountStore, isUniqueViolation } from '../identity/account-store.js';
import type { Accounts } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import { maskIdNumber, maskName } from '../identity/masking.js';
import type { PersonalData } from '../identity/personal-data.js';
import type { UpstreamIdp } from '../ports/upstream-idp/config.js';
import { isUpstreamUnavailable } from '../ports/errors.js';
import { UpstreamResponseError, type AuthorizationChecks, type UpstreamOidcClient } from '../ports/upstream-idp/oidc-client.js';
import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { federatedIdentityStore } from './federated-identities.js';

/** Kept from sending the person upstream until their return; taken exactly once. */
interface StateRecord extends AuthorizationChecks {
  interactionUid: string;
  upstream: string;
}

/** An upstream identity with no local account yet, waiting for the person to create or link one. */
interface PendingFirstLogin {
  upstream: string;
  subject: string;
  assuranceLevel: 2 | 3;
  idNumber: string;
  name: string;
  /** Set once the person chose to prove a local account by logging in to it. */
  linking: boolean;
}

export type FederationOutcome =
  | ({ kind: 'login'; assuranceLevel: 2 | 3 } & FirstFactorResult)
  | { kind: 'first_login' };

/** What the first-login page shows: who the upstream says the person is, masked. */
export interface FirstLoginView {
  upstream: { id: string; displayName: UpstreamIdp['display_name'] };
  maskedName: string;
  maskedIdNumber: string;
  /** An account with this ID number exists here: it can only be linked, by logging in to it. */
  accountExists: boolean;
  linking: boolean;
}

export interface FederatedLoginDependencies {
  upstreams: UpstreamIdp[];
  client: UpstreamOidcClient;
  cache: Cache;
  cipher: FieldCipher;
  db: Db;
  personal: PersonalData;
  accounts: Accounts;
  audit: AuditLog;
  /** How long a person may take at the upstream, and on the first-login page. */
  ttlSeconds: number;
  agreementVersion: string;
}

const STATE_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Login through an upstream identity provider (mutual recognition between provinces).
 * Later logins map by the upstream's issuer and subject alone. A first login either
 * creates a local account from the upstream's validated claims, or links an existing
 * account once the person has logged in to it here; the upstream's word that an ID number
 * is theirs never links an account by itself.
 */
export class FederatedLogin {
  private readonly byId: Map<string, UpstreamIdp>;

  constructor(private readonly deps: FederatedLoginDependencies) {
    this.byId = new Map(deps.upstreams.map((upstream) => [upstream.id, upstream]));
  }

  /** The upstreams the login page offers, in configured order. */
  list(): Array<{ id: string; displayName: UpstreamIdp['display_name'] }> {
    return this.deps.upstreams.map((upstream) => ({ id: upstream.id, displayName: upstream.display_name }));
  }

  upstream(id: string): UpstreamIdp {
    const upstream = this.byId.get(id);
    if (!upstream) throw new AppError('federation_upstream_unknown');
    return upstream;
  }

  private stateKey(state: string) {
    return `federation:state:${state}`;
  }

  private pendingKey(interactionUid: string) {
    return `federation:pending:${interactionUid}`;
  }

  private async fail(upstream: string | undefined, reason: string, meta: RequestMeta, result: 'failure' | 'denied' = 'failure'): Promise<void> {
    await this.deps.audit.append({ actor: { kind: 'anonymous' }, action: 'federation.login', result, details: { ...(upstream ? { upstream } : {}), reason }, meta });
  }

  /** The upstream's authorization URL for this login, with state, nonce and PKCE kept for the return. */
  async begin(interactionUid: string, upstreamId: string, options: { uiLocales?: string } = {}): Promise<string> {
    const upstream = this.upstream(upstreamId);
    let request: Awaited<ReturnType<UpstreamOidcClient['authorizationRequest']>>;
    try {
      request = await this.deps.client.authorizationRequest(upstream, options);
    } catch (error) {
      if (isUpstreamUnavailable(error)) throw new AppError('federation_unavailable', {}, { cause: error });
      throw error;
    }
    const record: StateRecord = { ...request.checks, interactionUid, upstream: upstream.id };
    const key = this.stateKey(request.checks.state);
    await this.deps.cache.set(key, this.deps.cipher.encrypt(JSON.stringify(record), key), this.deps.ttlSeconds);
    return request.url.href;
  }

  private async readState(upstreamId: string, state: string | null): Promise<StateRecord | undefined> {
    if (!state || !STATE_SHAPE.test(state)) return undefined;
    const key = this.stateKey(state);
    const raw = await this.deps.cache.get(key);
    if (!raw) return undefined;
    const record = JSON.parse(this.deps.cipher.decrypt(raw, key)) as StateRecord;
    return record.upstream === upstreamId ? record : undefined;
  }

  /** Which login a return from upstream belongs to (read, not used up: the login's own page does that). */
  async locate(upstreamId: string, callbackQuery: string, meta: RequestMeta): Promise<string> {
    this.upstream(upstreamId);
    const record = await this.readState(upstreamId, new URLSearchParams(callbackQuery).get('state'));
    if (!record) {
      await this.fail(upstreamId, 'state_unknown', meta);
      throw new AppError('federation_state_invalid');
    }
    return record.interactionUid;
  }

  /**
   * The person is back from upstream, on the login `interactionUid` their browser holds.
   * The state must have been issued for this very login and is used up here; the code is
   * redeemed and the ID token validated; then the identity is mapped.
   */
  async finish(interactionUid: string, upstreamId: string, callbackQuery: string, meta: RequestMeta): Promise<FederationOutcome> {
    const upstream = this.upstream(upstreamId);
    const state = new URLSearchParams(callbackQuery).get('state');
    const record = await this.readState(upstream.id, state);
    if (!record || record.interactionUid !== interactionUid) {
      await this.fail(upstream.id, record ? 'state_foreign' : 'state_unknown', meta);
      throw new AppError('federation_state_invalid');
    }
    // Of two returns racing with one state, only one takes it.
    if (!await this.deps.cache.take(this.stateKey(state!))) {
      await this.fail(upstream.id, 'state_unknown', meta);
      throw new AppError('federation_state_invalid');
    }

    let identity: Awaited<ReturnType<UpstreamOidcClient['complete']>>;
    try {
      identity = await this.deps.client.complete(upstream, callbackQuery, record);
    } catch (error) {
      if (error instanceof UpstreamResponseError) {
        await this.fail(upstream.id, error.reason, meta, error.kind === 'denied' ? 'denied' : 'failure');
        throw new AppError(error.kind === 'denied' ? 'federation_denied' : 'federation_failed', {}, { cause: error });
      }
      if (isUpstreamUnavailable(error)) {
        await this.fail(upstream.id, 'unavailable', meta);
        throw new AppError('federation_unavailable', {}, { cause: error });
      }
      throw error;
    }

    const assuranceLevel = identity.acr === undefined ? undefined : upstream.acr_map[identity.acr];
    if (assuranceLevel === undefined) {
      await this.fail(upstream.id, 'acr_unsupported', meta, 'denied');
      throw new AppError('federation_acr_unsupported');
    }

    const link = await federatedIdentityStore.find(this.deps.db, upstream.issuer, identity.subject);
    const account = link ? await this.deps.accounts.row(link.account_id) : undefined;
    if (link && account && account.status !== 'deregistered') {
      if (account.status === 'banned') {
        await this.deps.audit.append({ actor: { kind: 'citizen', id: account.id }, action: 'federation.login', target: { kind: 'account', id: account.id }, result: 'denied', details: { upstream: upstream.id, reason: 'banned' }, meta });
        throw new AppError('account_banned');
      }
      await federatedIdentityStore.touch(this.deps.db, upstream.issuer, identity.subject);
      await this.deps.audit.append({ actor: { kind: 'citizen', id: account.id }, action: 'federation.login', target: { kind: 'account', id: account.id }, result: 'success', details: { upstream: upstream.id, assurance_level: assuranceLevel }, meta });
      // The account's own second factor and forced change still follow, as for every way in.
      return {
        kind: 'login', accountId: account.id, method: 'fed', assuranceLevel,
        needsTotp: account.totp_enabled_at !== null, mustChangePassword: account.password_must_change, credentialStamp: credentialStamp(account),
      };
    }
    // A link to an erased account is stale: the person starts afresh.
    if (link) await federatedIdentityStore.remove(this.deps.db, upstream.issuer, identity.subject);

    const idNumber = typeof identity.idNumber === 'string' ? parseIdNumber(identity.idNumber) : undefined;
    const name = typeof identity.name === 'string' ? identity.name.normalize('NFKC').trim() : '';
    if (!idNumber?.ok || name.length < 1 || name.length > 50 || /\p{Cc}/u.test(name)) {
      await this.fail(upstream.id, 'claims_invalid', meta);
      throw new AppError('federation_claims_invalid');
    }
    const pending: PendingFirstLogin = { upstream: upstream.id, subject: identity.subject, assuranceLevel, idNumber: idNumber.value, name, linking: false };
    await this.savePending(interactionUid, pending);
    await this.deps.audit.append({ actor: { kind: 'anonymous' }, action: 'federation.login', result: 'success', details: { upstream: upstream.id, assurance_level: assuranceLevel, first_login: true, id_number_masked: maskIdNumber(idNumber.value) }, meta });
    return { kind: 'first_login' };
  }

  private async savePending(interactionUid: string, pending: PendingFirstLogin): Promise<void> {
    const key = this.pendingKey(interactionUid);
    await this.deps.cache.set(key, this.deps.cipher.encrypt(JSON.stringify(pending), key), this.deps.ttlSeconds);
  }

  private async pending(interactionUid: string): Promise<PendingFirstLogin | undefined> {
    const key = this.pendingKey(interactionUid);
    const raw = await this.deps.cache.get(key);
    return raw ? JSON.parse(this.deps.cipher.decrypt(raw, key)) as PendingFirstLogin : undefined;
  }

  private async requirePending(interactionUid: string): Promise<PendingFirstLogin> {
    const pending = await this.pending(interactionUid);
    if (!pending) throw new AppError('federation_state_invalid');
    return pending;
  }

  async firstLoginView(interactionUid: string): Promise<FirstLoginView> {
    const pending = await this.requirePending(interactionUid);
    const upstream = this.upstream(pending.upstream);
    return {
      upstream: { id: upstream.id, displayName: upstream.display_name },
      maskedName: maskName(pending.name),
      maskedIdNumber: maskIdNumber(pending.idNumber),
      accountExists: Boolean(await this.deps.accounts.byIdNumber(pending.idNumber)),
      linking: pending.linking,
    };
  }

  /**
   * A new local account from the upstream's validated claims: no password, no phone, the
   * assurance level the upstream's acr maps to, and the link, in one transaction. When the
   * ID number already has an account here, nothing is created: that account can only be linked.
   */
  async createAccount(interactionUid: string, input: { agreed: boolean }, meta: RequestMeta): Promise<{ accountId: string; assuranceLevel: 2 | 3 }> {
    const pending = await this.requirePending(interactionUid);
    if (!input.agreed) throw new AppError('agreement_required');
    const upstream = this.upstream(pending.upstream);
    const id = randomUUID();
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await accountStore.insert(trx, {
          id,
          status: 'active',
          assurance_level: pending.assuranceLevel,
          registration_channel: 'federation',
          id_number_enc: this.deps.personal.seal('id_number', pending.idNumber),
          id_number_idx: this.deps.accounts.idNumberIndex(pending.idNumber),
          name_enc: this.deps.personal.seal('name', pending.name),
          password_hash: null,
          agreement_version: this.deps.agreementVersion,
          agreement_accepted_at: new Date(),
        });
        await federatedIdentityStore.insert(trx, { upstream_issuer: upstream.issuer, subject: pending.subject, account_id: id, upstream_id: upstream.id, linked_by: 'created', last_login_at: new Date() });
        await this.deps.audit.append({
          actor: { kind: 'citizen', id },
          action: 'account.register',
          target: { kind: 'account', id },
          result: 'success',
          details: { channel: 'federation', upstream: upstream.id, assurance_level: pending.assuranceLevel, id_number_masked: maskIdNumber(pending.idNumber) },
          meta,
        }, trx);
        await this.deps.audit.append({ actor: { kind: 'citizen', id }, action: 'federation.link', target: { kind: 'account', id }, result: 'success', details: { upstream: upstream.id, linked_by: 'created' }, meta }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'accounts_id_number_idx')) throw new AppError('already_registered', {}, { cause: error });
      if (isUniqueViolation(error, 'federated_identities_pk')) throw new AppError('federation_state_invalid', {}, { cause: error });
      throw error;
    }
    await this.deps.cache.delete(this.pendingKey(interactionUid));
    return { accountId: id, assuranceLevel: pending.assuranceLevel };
  }

  /** The person will prove a local account by logging in to it; the link is made when they do. */
  async chooseLink(interactionUid: string): Promise<void> {
    const pending = await this.requirePending(interactionUid);
    await this.savePending(interactionUid, { ...pending, linking: true });
  }

  /**
   * Called when a local login on `interactionUid` is complete. If the person chose to link
   * an upstream identity on this login, the account they proved is linked, provided it is
   * the same person the upstream named (by ID number).
   */
  async afterLocalLogin(interactionUid: string, accountId: string, meta: RequestMeta): Promise<void> {
    const pending = await this.pending(interactionUid);
    if (!pending?.linking) return;
    const upstream = this.upstream(pending.upstream);
    const row = await this.deps.accounts.row(accountId);
    const idNumber = row ? this.deps.accounts.openField(row, 'id_number') : undefined;
    if (idNumber !== pending.idNumber) {
      await this.deps.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'federation.link', target: { kind: 'account', id: accountId }, result: 'denied', details: { upstream: upstream.id, reason: 'different_person' }, meta });
      throw new AppError('federation_link_mismatch');
    }
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await federatedIdentityStore.insert(trx, { upstream_issuer: upstream.issuer, subject: pending.subject, account_id: accountId, upstream_id: upstream.id, linked_by: 'local_login', last_login_at: new Date() });
        await this.deps.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'federation.link', target: { kind: 'account', id: accountId }, result: 'success', details: { upstream: upstream.id, linked_by: 'local_login' }, meta }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'federated_identities_account_idx') || isUniqueViolation(error, 'federated_identities_pk')) {
        throw new AppError('federation_already_linked', {}, { cause: error });
      }
      throw error;
    }
    await this.deps.cache.delete(this.pendingKey(interactionUid));
  }
}
