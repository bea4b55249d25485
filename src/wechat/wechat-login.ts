import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { AccountRow } from '../identity/account-store.js';
import type { Accounts } from '../identity/accounts.js';
import { isUpstreamUnavailable } from '../ports/errors.js';
import type { WechatPort } from '../ports/wechat/index.js';
import type { BindingTickets } from './binding-tickets.js';
import type { WechatBindings } from './bindings.js';

export type WechatLoginOutcome =
  | { kind: 'ok'; accountId: string; assuranceLevel: number }
  /** The code is unknown, expired or spent, or WeChat refuses this user. */
  | { kind: 'refused'; reason: 'invalid_code' | 'user_blocked' }
  /** A real WeChat identity, bound to no account: the ticket lets this client bind it once. */
  | { kind: 'unbound'; ticket: string; expiresIn: number }
  /** Bound to an account that is banned or deregistered. */
  | { kind: 'inactive'; status: string }
  /**
   * The account has a step WeChat cannot take: its TOTP second factor, or the change of a
   * password staff set. Only the login page does those, so the person signs in there.
   */
  | { kind: 'web_login_required'; step: WebLoginStep }
  | { kind: 'unavailable' };

export type WebLoginStep = 'totp' | 'password_change';

/**
 * What the account asks of every login beyond its first factor, as the login page applies
 * it (identity/authentication.ts): the second factor first, then the forced change.
 */
function stepBeyondWechat(row: Pick<AccountRow, 'totp_enabled_at' | 'password_must_change'>): WebLoginStep | undefined {
  if (row.totp_enabled_at !== null) return 'totp';
  if (row.password_must_change) return 'password_change';
  return undefined;
}

/**
 * Signing in with WeChat: the code from `wx.login` is redeemed through the port for the
 * person's WeChat identity, which must be bound to an active real-name account that asks
 * for no second factor and no forced password change: WeChat proves neither, and every
 * way in applies the same steps. Every outcome is audited, without the code or the openid.
 */
export class WechatLogin {
  constructor(
    private readonly wechat: WechatPort,
    private readonly bindings: WechatBindings,
    private readonly tickets: BindingTickets,
    private readonly accounts: Accounts,
    private readonly audit: AuditLog,
  ) {}

  async login(code: string, clientId: string, meta: RequestMeta): Promise<WechatLoginOutcome> {
    const failed = (reason: string, result: 'failure' | 'denied' = 'failure', accountId?: string) => this.audit.append({
      actor: accountId ? { kind: 'citizen', id: accountId } : { kind: 'anonymous' }, action: 'login',
      ...(accountId ? { target: { kind: 'account', id: accountId } } : {}),
      result, details: { method: 'wechat', reason, client_id: clientId }, meta,
    });

    let answer;
    try {
      answer = await this.wechat.codeToSession(code);
    } catch (error) {
      if (!isUpstreamUnavailable(error)) throw error;
      await failed('wechat_unavailable');
      return { kind: 'unavailable' };
    }
    if (!answer.ok) {
      await failed(answer.reason);
      return { kind: 'refused', reason: answer.reason };
    }

    const { sessionKey: _sessionKey, ...identity } = answer.session;
    const binding = await this.bindings.find(identity);
    if (!binding) {
      await failed('unbound');
      return { kind: 'unbound', ...await this.tickets.issue({ ...identity, clientId }) };
    }
    const row = await this.accounts.row(binding.account_id);
    if (!row || row.status !== 'active') {
      await failed(row?.status ?? 'account_missing', 'denied', binding.account_id);
      return { kind: 'inactive', status: row?.status ?? 'deregistered' };
    }
    const step = stepBeyondWechat(row);
    if (step) {
      await failed(step === 'totp' ? 'second_factor_required' : 'password_change_required', 'denied', row.id);
      return { kind: 'web_login_required', step };
    }
    await this.bindings.touch(binding.id);
    await this.audit.append({
      actor: { kind: 'citizen', id: row.id }, action: 'login', target: { kind: 'account', id: row.id }, result: 'success',
      details: { method: 'wechat', amr: ['wechat'], client_id: clientId, binding_id: binding.id }, meta,
    });
    return { kind: 'ok', accountId: row.id, assuranceLevel: row.assurance_level };
  }
}
