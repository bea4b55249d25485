import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { SmsPolicy } from '../config/load.js';
import { AppError } from '../errors.js';
import { credentialStamp } from '../identity/authentication.js';
import type { Accounts } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import type { Passwords } from '../identity/passwords.js';
import type { LogoutOutbox, PendingLogout } from '../oidc/logout-outbox.js';
import { isUpstreamUnavailable } from '../ports/errors.js';
import { noticeMessage, type SmsGateway } from '../ports/sms/index.js';
import { reservations, type Cache } from '../store/cache.js';
import type { LoginThrottle } from '../verification/login-throttle.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import type { Flow, FlowChannel, FlowRef, FlowStarter, FlowStore, StartedFlow } from './flow-store.js';
import { sameName } from '../identity/person-name.js';
import { unbindAllWithin } from '../wechat/bindings.js';

export type RecoveryState = 'identity' | 'code_sent' | 'password' | 'complete';

interface RecoveryData {
  /** Blind index of the ID number given: what sends are counted against, matched or not. */
  limitKey?: string;
  /**
   * Where the code went: the bound phone of the matching account or, when nothing matched,
   * a stand-in no message is ever delivered to, so that every later step does the same work.
   */
  target?: { phone: string; accountId?: string; credentialStamp?: string };
}

type RecoveryFlow = Flow<RecoveryState, RecoveryData>;

/** Deliberately nothing about the account: the view is the same whether or not anything matched. */
export interface RecoveryView {
  flow_id: string;
  /** API only, in the answer that starts the flow: send it as X-Flow-Token with every later call. */
  flow_token?: string;
  channel: FlowChannel;
  state: RecoveryState;
  expires_at: number;
}

export interface RecoveryDependencies {
  flows: FlowStore;
  accounts: Accounts;
  passwords: Passwords;
  smsCodes: SmsCodes;
  sms: SmsGateway;
  /** Ends every login of the account, written with the new password. */
  logouts: LogoutOutbox;
  throttle: LoginThrottle;
  audit: AuditLog;
  cache: Cache;
  smsPolicy: SmsPolicy;
}

type Captcha = { id?: string; answer?: string };

const FLOW_TTL_SECONDS = 15 * 60;


/**
 * Password recovery (忘记密码): the ID number and name, a code sent to the account's bound
 * phone, a new password. An unauthenticated caller must not learn whether an ID number is
 * registered or whether the name fits it, so the identity step always answers "a code was
 * sent if the details match", after the same lookups and the same rate limits; only a real
 * match (an active account, the right name) gets an SMS. For anything else a code is still
 * made and bound to a stand-in, so wrong codes count and run out exactly alike. Banned
 * accounts never match: they are restored at a service counter, not online. Nor does an
 * account without a bound phone (registered without one): it is answered like everyone,
 * and the page's hint and answer both send such a person to a counter with their ID card,
 * where the password is reset in person.
 */
export class Recovery {
  constructor(private readonly deps: RecoveryDependencies) {}

  view(flow: RecoveryFlow | StartedFlow<RecoveryState, RecoveryData>): RecoveryView {
    return {
      flow_id: flow.id,
      ...('holder' in flow && flow.channel === 'api' ? { flow_token: flow.holder } : {}),
      channel: flow.channel, state: flow.state, expires_at: flow.expiresAt,
    };
  }

  async start(starter: FlowStarter): Promise<RecoveryView> {
    return this.view(await this.deps.flows.create<RecoveryState, RecoveryData>('recovery', starter.channel, 'identity', {}, FLOW_TTL_SECONDS, starter.bind));
  }

  async get(at: FlowRef): Promise<RecoveryView> {
    return this.view(await this.deps.flows.get<RecoveryState, RecoveryData>('recovery', at));
  }

  private step<T>(at: FlowRef, allowed: RecoveryState[], run: (flow: RecoveryFlow) => Promise<{ flow?: RecoveryFlow; result: T }>) {
    return this.deps.flows.step<RecoveryState, RecoveryData, T>('recovery', at, allowed, run);
  }

  async submitIdentity(at: FlowRef, input: { name: string; idNumber: string; captcha?: Captcha }, meta: RequestMeta): Promise<RecoveryView> {
    return this.step(at, ['identity'], async (flow) => {
      const parsed = parseIdNumber(input.idNumber);
      if (!parsed.ok) throw new AppError('invalid_id_number', { field: 'id_number' });
      const name = input.name.trim();
      if (name.length < 1 || name.length > 50) throw new AppError('invalid_input', { field: 'name' });
      const limitKey = this.deps.accounts.idNumberIndex(parsed.value);
      const target = await this.match(parsed.value, name, limitKey);
      await this.sendCode(at.id, limitKey, target, input.captcha, meta);
      const next: RecoveryFlow = { ...flow, state: 'code_sent', data: { limitKey, target } };
      return { flow: next, result: this.view(next) };
    });
  }

  /** Another code to the same place, after the first expired or was spent by wrong tries. */
  async resendCode(at: FlowRef, input: { captcha?: Captcha }, meta: RequestMeta): Promise<{ ttl_seconds: number }> {
    return this.step(at, ['code_sent'], async (flow) => {
      const { limitKey, target } = flow.data;
      if (!limitKey || !target) throw new AppError('flow_step_invalid');
      return { result: { ttl_seconds: await this.sendCode(at.id, limitKey, target, input.captcha, meta) } };
    });
  }

  async verifyCode(at: FlowRef, input: { code: string }): Promise<RecoveryView> {
    return this.step(at, ['code_sent'], async (flow) => {
      const { target } = flow.data;
      if (!target) throw new AppError('flow_step_invalid');
      await this.deps.smsCodes.verify({ purpose: 'reset', phone: target.phone, flowId: at.id }, input.code.trim());
      // Nobody was ever sent the stand-in's code: guessing it proves nothing.
      if (!target.accountId) throw new AppError('code_invalid');
      const next: RecoveryFlow = { ...flow, state: 'password' };
      return { flow: next, result: this.view(next) };
    });
  }

  /**
   * The new password (policy and audit `password.recover` in Passwords.set); then whoever
   * held the old one is thrown out everywhere, the login lock it may have caused is lifted,
   * and the bound phone is told.
   */
  async setPassword(at: FlowRef, input: { password: string }, meta: RequestMeta): Promise<RecoveryView> {
    return this.step(at, ['password'], async (flow) => {
      const accountId = flow.data.target?.accountId;
      if (!accountId) throw new AppError('flow_step_invalid');
      // The account as the code found it: not banned, its password not reset by staff and its
      // phone not changed at a counter since (a code to a phone given up proves nothing now).
      const row = await this.deps.accounts.row(accountId);
      if (row?.status === 'banned') throw new AppError('account_banned');
      if (!row || this.deps.accounts.profileOf(row).phone !== flow.data.target!.phone) throw new AppError('login_restart');
      let ending: PendingLogout | undefined;
      await this.deps.passwords.set(accountId, input.password, {
        reason: 'recovery',
        ...(flow.data.target!.credentialStamp ? { expectStamp: flow.data.target!.credentialStamp } : {}),
        // The WeChat bindings and every login go with the old password: all one act.
        within: async (trx) => {
          await unbindAllWithin(trx, this.deps.audit, accountId, 'password.recover', meta);
          ending = await this.deps.logouts.enqueue(trx, { kind: 'account', account_id: accountId });
        },
      }, meta);
      await this.deps.logouts.settle(ending!);
      // The subject Authentication counts an account's failed sign-ins under.
      await Promise.all([this.deps.throttle.clear(`account:${accountId}`), this.deps.throttle.clear(`account:${accountId}:sms`)]);
      const phone = (row ? this.deps.accounts.profileOf(row).phone : undefined) ?? flow.data.target!.phone;
      await this.notify(accountId, phone, meta);
      // The flow keeps nothing about the account once it is done.
      const next: RecoveryFlow = { ...flow, state: 'complete', data: {} };
      return { flow: next, result: this.view(next) };
    });
  }

  private async match(idNumber: string, name: string, limitKey: string): Promise<NonNullable<RecoveryData['target']>> {
    const row = await this.deps.accounts.byIdNumber(idNumber);
    const profile = row?.status === 'active' ? this.deps.accounts.profileOf(row) : undefined;
    if (profile?.phone && sameName(profile.name, name)) return { phone: profile.phone, accountId: profile.id, credentialStamp: credentialStamp(row!) };
    return { phone: `unmatched:${limitKey}` };
  }

  /**
   * Counts sends per ID number as well as SmsCodes counts them per phone and address:
   * otherwise a second try with another name would be limited for a stranger's ID (the
   * stand-in's count) and not for a match (the phone's), telling the two apart. Places are
   * taken before the send and given back if it is refused, so a missing captcha costs no turn.
   */
  private async sendCode(flowId: string, limitKey: string, target: { phone: string; accountId?: string }, captcha: Captcha | undefined, meta: RequestMeta): Promise<number> {
    const { perMinute, perHour, perDay, codeTtlSeconds } = this.deps.smsPolicy;
    const windows: Array<[string, number, number]> = [
      [`recovery-id:${limitKey}:m`, 60, perMinute],
      [`recovery-id:${limitKey}:h`, 3600, perHour],
      [`recovery-id:${limitKey}:d`, 86_400, perDay],
    ];
    const { take, giveBack } = reservations(this.deps.cache);
    for (const [key, seconds, limit] of windows) {
      if (!await take(key, limit, seconds)) {
        await giveBack();
        throw new AppError('sms_rate_limited');
      }
    }
    try {
      await this.deps.smsCodes.send({ purpose: 'reset', phone: target.phone, flowId, ip: meta.ip ?? 'unknown', captcha, deliver: target.accountId !== undefined });
    } catch (error) {
      // Only real matches reach the gateway, so its outage must look like success: the person asks again.
      if (!(error instanceof AppError && error.code === 'sms_unavailable')) {
        await giveBack();
        throw error;
      }
      await this.deps.audit.append({ actor: { kind: 'system' }, action: 'sms.send', ...(target.accountId ? { target: { kind: 'account', id: target.accountId } } : {}), result: 'failure', details: { purpose: 'reset' }, meta });
    }
    return codeTtlSeconds;
  }

  /** The password is already changed: a notice that cannot be sent is recorded, not a failed reset. */
  private async notify(accountId: string, phone: string, meta: RequestMeta): Promise<void> {
    try {
      await this.deps.sms.send(noticeMessage(phone, { kind: 'password-reset', at: new Date() }));
    } catch (error) {
      if (!isUpstreamUnavailable(error)) throw error;
      await this.deps.audit.append({ actor: { kind: 'system' }, action: 'sms.notice', target: { kind: 'account', id: accountId }, result: 'failure', details: { kind: 'password-reset' }, meta });
    }
  }
}
