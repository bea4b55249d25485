import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { KeyedDigest } from '../crypto/digest.js';
import type { LogoutOutbox } from '../oidc/logout-outbox.js';
import { AppError } from '../errors.js';
import type { WechatIdentity } from '../ports/wechat/index.js';
import type { Database } from '../store/schema.js';
import { deleteWechatBindings, type BindingStore, type BindingRow } from './binding-store.js';
import type { BindingTickets } from './binding-tickets.js';

/** What a binding looks like to its owner: the identity masked, never whole. */
export interface BindingView {
  id: string;
  app_id: string;
  openid_masked: string;
  bound_at: string;
  last_login_at: string | null;
}

/** The acts that take an account back from whoever held its old credentials, and so end its WeChat bindings. */
export type UnbindingCause = 'account.password_reset' | 'password.recover' | 'account.ban';

/**
 * Removes every WeChat binding of the account inside the transaction of `cause`: whoever
 * held the old password may have bound their own WeChat, which must not outlive the act.
 * Each removal is audited as a `wechat.unbind` with the act as its cause; the mini-program's
 * logins end with the act's own logout job (all the account's logins). The person binds
 * again after a normal login.
 */
export async function unbindAllWithin(trx: Transaction<Database>, audit: AuditLog, accountId: string, cause: UnbindingCause, meta: RequestMeta): Promise<number> {
  const removed = await deleteWechatBindings(trx, accountId);
  for (const binding of removed) {
    await audit.append({
      actor: { kind: 'system' }, action: 'wechat.unbind', target: { kind: 'account', id: accountId }, result: 'success',
      details: { cause, binding_id: binding.id, app_id: binding.app_id, openid_masked: binding.openid_masked, client_id: binding.client_id }, meta,
    }, trx);
  }
  return removed.length;
}

/** `oSim**********0001`: enough to recognise, not enough to use. */
export function maskOpenid(openid: string): string {
  return openid.length <= 8 ? '*'.repeat(openid.length) : `${openid.slice(0, 4)}${'*'.repeat(openid.length - 8)}${openid.slice(-4)}`;
}

export function view(row: BindingRow): BindingView {
  return {
    id: row.id,
    app_id: row.app_id,
    openid_masked: row.openid_masked,
    bound_at: new Date(row.created_at).toISOString(),
    last_login_at: row.last_login_at ? new Date(row.last_login_at).toISOString() : null,
  };
}

/**
 * Bindings of WeChat identities to real-name accounts. Made only with a binding ticket
 * (proof of a fresh WeChat code) and an access token of a normal login (proof of the
 * account), removed by the account's owner; each change is audited.
 */
export class WechatBindings {
  constructor(
    private readonly store: BindingStore,
    private readonly tickets: BindingTickets,
    private readonly digest: KeyedDigest,
    /** Ends the mini-program's logins of an account when its binding goes. */
    private readonly logouts: LogoutOutbox,
    private readonly audit: AuditLog,
  ) {}

  identityIndex(identity: Pick<WechatIdentity, 'appId' | 'openid'>): string {
    return this.digest.digest('wechat-openid', `${identity.appId}\0${identity.openid}`);
  }

  find(identity: WechatIdentity): Promise<BindingRow | undefined> {
    return this.store.findByIdentity(identity.appId, this.identityIndex(identity));
  }

  touch(id: string): Promise<void> {
    return this.store.touch(id);
  }

  async list(accountId: string): Promise<BindingView[]> {
    return (await this.store.listForAccount(accountId)).map(view);
  }

  /**
   * Binds the ticket's WeChat identity to the account signed in at `clientId`. The ticket is
   * spent whatever happens next; it must have been issued to that same client.
   */
  async bind(accountId: string, clientId: string, ticketId: string, meta: RequestMeta): Promise<BindingView> {
    const ticket = await this.tickets.take(ticketId);
    const refuse = async (code: 'wechat_ticket_invalid' | 'wechat_already_bound', reason: string) => {
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'wechat.bind', target: { kind: 'account', id: accountId }, result: 'denied', details: { reason, client_id: clientId }, meta });
      return new AppError(code);
    };
    if (!ticket) throw await refuse('wechat_ticket_invalid', 'ticket_unknown');
    if (ticket.clientId !== clientId) throw await refuse('wechat_ticket_invalid', 'ticket_other_client');
    const row = {
      id: randomUUID(),
      app_id: ticket.appId,
      openid_idx: this.identityIndex(ticket),
      openid_masked: maskOpenid(ticket.openid),
      unionid_idx: ticket.unionid ? this.digest.digest('wechat-unionid', ticket.unionid) : null,
      account_id: accountId,
      client_id: clientId,
    };
    if (!await this.store.insert(row)) throw await refuse('wechat_already_bound', 'already_bound');
    await this.audit.append({
      actor: { kind: 'citizen', id: accountId }, action: 'wechat.bind', target: { kind: 'account', id: accountId }, result: 'success',
      details: { binding_id: row.id, app_id: row.app_id, openid_masked: row.openid_masked, client_id: clientId }, meta,
    });
    return view({ ...row, created_at: new Date(), last_login_at: null });
  }

  /**
   * Removes the binding, and signs the account out of the client it was made with: the
   * mini-program's refresh tokens must not outlive the link that let it sign in.
   */
  async unbind(accountId: string, bindingId: string, meta: RequestMeta): Promise<void> {
    if (!/^[0-9a-f-]{36}$/.test(bindingId)) throw new AppError('wechat_binding_not_found');
    const ending = await this.store.transaction(async (trx) => {
      const removed = await this.store.remove(accountId, bindingId, trx);
      if (!removed) throw new AppError('wechat_binding_not_found');
      const grants = await this.store.grantsOf(accountId, removed.client_id, trx);
      await this.audit.append({
        actor: { kind: 'citizen', id: accountId }, action: 'wechat.unbind', target: { kind: 'account', id: accountId }, result: 'success',
        details: { binding_id: removed.id, app_id: removed.app_id, openid_masked: removed.openid_masked, client_id: removed.client_id, grants: grants.length }, meta,
      }, trx);
      return this.logouts.enqueue(trx, { kind: 'logins', grant_ids: grants });
    });
    await this.logouts.settle(ending);
  }
}
