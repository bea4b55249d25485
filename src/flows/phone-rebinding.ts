import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { AccountProfile, Accounts } from '../identity/accounts.js';
import { errorIs, type AttemptLimit } from '../identity/attempt-limit.js';
import { factorStore } from '../identity/factor-store.js';
import { parseIdNumber } from '../identity/id-number.js';
import { maskPhone } from '../identity/masking.js';
import { normalisePhone } from '../identity/phone.js';
import { isUpstreamUnavailable } from '../ports/errors.js';
import type { Registries } from '../ports/registries/index.js';
import { phoneBoundMessage } from '../ports/sms/account-notices.js';
import { noticeMessage, type SmsGateway, type SmsMessage } from '../ports/sms/index.js';
import type { FactorKind } from '../store/schema.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import { verifyDocumentFactor, type DocumentFactorInput } from './factor-checks.js';
import type { Flow, FlowChannel, FlowRef, FlowStore } from './flow-store.js';
import type { SignedIn } from './holder.js';
import { sameName } from '../identity/person-name.js';
import { REQUIRED_FACTORS } from './registration.js';

/** `old_phone`: the old phone still receives texts. `identity`: it is lost, the person proves who they are again. */
export type RebindPath = 'old_phone' | 'identity';

/**
 * old_phone: old_code → new_code → complete
 * identity:  identity → factors → new_code → complete
 */
export type RebindState = 'old_code' | 'identity' | 'factors' | 'new_code' | 'complete';

interface RebindData {
  accountId: string;
  path: RebindPath;
  oldPhoneMasked?: string;
  /** Re-proven factors (path identity): kinds and masks only, the numbers are not needed again. */
  factors: Array<{ kind: FactorKind; masked: string }>;
  newPhone?: string;
  result?: { phoneMasked: string; carrier: CarrierOutcome };
}

type RebindFlow = Flow<RebindState, RebindData>;
type Captcha = { id?: string; answer?: string };
type CarrierOutcome = 'match' | 'no_match' | 'unavailable';
/** The flow a request names; who asks (SignedIn) supplies the proof of holding it. */
export type RebindRef = Omit<FlowRef, 'holder'>;

export interface RebindView {
  flow_id: string;
  channel: FlowChannel;
  path: RebindPath;
  state: RebindState;
  expires_at: number;
  old_phone_masked?: string;
  new_phone_masked?: string;
  verified_factors: Array<{ kind: FactorKind; masked: string }>;
  factors_needed: number;
  result?: { phone_masked: string; carrier_verified: boolean };
}

export interface PhoneRebindingDependencies {
  flows: FlowStore;
  accounts: Accounts;
  registries: Registries;
  smsCodes: SmsCodes;
  sms: SmsGateway;
  attempts: AttemptLimit;
  audit: AuditLog;
}

const FLOW_TTL_SECONDS = 15 * 60;


/**
 * Changing the bound phone (更换绑定手机), as a persisted flow so that no step can be
 * skipped or replayed: each step checks the state and moves it on. Either the old phone
 * confirms by SMS, or, when it is lost, the person proves their real name again as at
 * registration. Then the new phone confirms by SMS and is bound; the carriers are asked
 * whether it is registered in the person's name, which decides only whether it counts
 * as a verified factor. Both numbers are told.
 *
 * A flow belongs to the session or token that started it (its key is the flow's holder):
 * to anyone else, another session or another client's token of the same person included,
 * it does not exist.
 */
export class PhoneRebinding {
  constructor(private readonly deps: PhoneRebindingDependencies) {}

  view(flow: RebindFlow): RebindView {
    const { data } = flow;
    return {
      flow_id: flow.id,
      channel: flow.channel,
      path: data.path,
      state: flow.state,
      expires_at: flow.expiresAt,
      ...(data.oldPhoneMasked ? { old_phone_masked: data.oldPhoneMasked } : {}),
      ...(data.newPhone ? { new_phone_masked: maskPhone(data.newPhone) } : {}),
      verified_factors: data.factors,
      factors_needed: data.path === 'identity' ? Math.max(0, REQUIRED_FACTORS - data.factors.length) : 0,
      ...(data.result ? { result: { phone_masked: data.result.phoneMasked, carrier_verified: data.result.carrier === 'match' } } : {}),
    };
  }

  private async profile(accountId: string): Promise<AccountProfile> {
    const profile = await this.deps.accounts.profile(accountId);
    if (!profile || profile.status !== 'active') throw new AppError('unauthenticated');
    return profile;
  }

  async start(who: SignedIn, path: RebindPath, channel: FlowChannel): Promise<RebindView> {
    const { accountId } = who;
    const profile = await this.profile(accountId);
    if (path === 'old_phone' && !profile.phone) throw new AppError('phone_required');
    const data: RebindData = { accountId, path, factors: [], ...(profile.masked.phone ? { oldPhoneMasked: profile.masked.phone } : {}) };
    const state: RebindState = path === 'old_phone' ? 'old_code' : 'identity';
    return this.view(await this.deps.flows.create<RebindState, RebindData>('rebind', channel, state, data, FLOW_TTL_SECONDS, { holder: who.key }));
  }

  async get(at: RebindRef, who: SignedIn): Promise<RebindView> {
    const flow = await this.deps.flows.get<RebindState, RebindData>('rebind', { ...at, holder: who.key });
    if (flow.data.accountId !== who.accountId) throw new AppError('flow_expired');
    return this.view(flow);
  }

  private step<T>(at: RebindRef, who: SignedIn, allowed: RebindState[], run: (flow: RebindFlow) => Promise<{ flow?: RebindFlow; result: T }>) {
    return this.deps.flows.step<RebindState, RebindData, T>('rebind', { ...at, holder: who.key }, allowed, async (flow) => {
      if (flow.data.accountId !== who.accountId) throw new AppError('flow_expired');
      return run(flow);
    });
  }

  // Path old_phone -------------------------------------------------------------------

  async sendOldCode(at: RebindRef, who: SignedIn, input: { captcha?: Captcha }, meta: RequestMeta): Promise<{ ttl_seconds: number }> {
    return this.step(at, who, ['old_code'], async () => {
      const { phone } = await this.profile(who.accountId);
      if (!phone) throw new AppError('phone_required');
      const sent = await this.deps.smsCodes.send({ purpose: 'rebind-old', phone, flowId: at.id, ip: meta.ip ?? 'unknown', captcha: input.captcha });
      return { result: { ttl_seconds: sent.ttlSeconds } };
    });
  }

  async verifyOldCode(at: RebindRef, who: SignedIn, input: { code: string }): Promise<RebindView> {
    return this.step(at, who, ['old_code'], async (flow) => {
      const { phone } = await this.profile(who.accountId);
      if (!phone) throw new AppError('phone_required');
      await this.deps.smsCodes.verify({ purpose: 'rebind-old', phone, flowId: at.id }, input.code.trim());
      const next: RebindFlow = { ...flow, state: 'new_code' };
      return { flow: next, result: this.view(next) };
    });
  }

  // Path identity --------------------------------------------------------------------

  /** The ID number and name must be the account's own; wrong answers are limited per account. */
  async submitIdentity(at: RebindRef, who: SignedIn, input: { name: string; idNumber: string }): Promise<RebindView> {
    return this.step(at, who, ['identity'], async (flow) => {
      const parsed = parseIdNumber(input.idNumber);
      if (!parsed.ok) throw new AppError('invalid_id_number', { field: 'id_number' });
      const profile = await this.profile(who.accountId);
      await this.deps.attempts.guard(`rebind:${who.accountId}`, async () => {
        if (parsed.value !== profile.idNumber || !sameName(input.name, profile.name)) throw new AppError('identity_mismatch');
      }, errorIs('identity_mismatch'), { onSuccess: 'give-back' });
      const next: RebindFlow = { ...flow, state: 'factors' };
      return { flow: next, result: this.view(next) };
    });
  }

  async verifyFactor(at: RebindRef, who: SignedIn, input: DocumentFactorInput): Promise<RebindView> {
    return this.step(at, who, ['factors'], async (flow) => {
      if (flow.data.factors.some((f) => f.kind === input.kind)) throw new AppError('factor_duplicate');
      const profile = await this.profile(who.accountId);
      const factor = await this.deps.attempts.guard(
        `rebind:${who.accountId}`,
        () => verifyDocumentFactor(this.deps.registries, { idNumber: profile.idNumber, name: profile.name }, input),
        errorIs('factor_mismatch'),
        { onSuccess: 'give-back' },
      );
      const factors = [...flow.data.factors, { kind: factor.kind, masked: factor.masked }];
      const next: RebindFlow = { ...flow, state: factors.length >= REQUIRED_FACTORS ? 'new_code' : 'factors', data: { ...flow.data, factors } };
      return { flow: next, result: this.view(next) };
    });
  }

  // Both paths: the new phone --------------------------------------------------------

  async sendNewCode(at: RebindRef, who: SignedIn, input: { phone: string; captcha?: Captcha }, meta: RequestMeta): Promise<{ ttl_seconds: number; new_phone_masked: string }> {
    return this.step(at, who, ['new_code'], async (flow) => {
      const phone = normalisePhone(input.phone);
      if (!phone) throw new AppError('invalid_phone');
      if (phone === (await this.profile(who.accountId)).phone) throw new AppError('phone_unchanged');
      // Whether another account holds the number is told only once its code proves the person holds it too.
      const sent = await this.deps.smsCodes.send({ purpose: 'rebind-new', phone, flowId: at.id, ip: meta.ip ?? 'unknown', captcha: input.captcha });
      const next: RebindFlow = { ...flow, data: { ...flow.data, newPhone: phone } };
      return { flow: next, result: { ttl_seconds: sent.ttlSeconds, new_phone_masked: maskPhone(phone) } };
    });
  }

  async verifyNewCode(at: RebindRef, who: SignedIn, input: { code: string }, meta: RequestMeta): Promise<RebindView> {
    return this.step(at, who, ['new_code'], async (flow) => {
      const { newPhone } = flow.data;
      if (!newPhone) throw new AppError('flow_step_invalid');
      await this.deps.smsCodes.verify({ purpose: 'rebind-new', phone: newPhone, flowId: at.id }, input.code.trim());
      const profile = await this.profile(who.accountId);
      const carrier = await this.carrierCheck(profile, newPhone);
      const changedAt = new Date();
      await this.deps.accounts.transaction(async (trx) => {
        // Updates the phone factor too; fails with phone_in_use when another account holds the number.
        await this.deps.accounts.bindPhone(who.accountId, newPhone, trx);
        // The phone factor says "the bound phone is registered in this person's name": without
        // a match that is no longer true of any bound phone, so it goes.
        if (carrier !== 'match') await factorStore.remove(trx, who.accountId, 'phone');
        await this.deps.audit.append({
          actor: { kind: 'citizen', id: who.accountId },
          action: 'phone.change',
          target: { kind: 'account', id: who.accountId },
          result: 'success',
          details: {
            path: flow.data.path,
            old_phone_masked: profile.masked.phone ?? null,
            new_phone_masked: maskPhone(newPhone),
            carrier,
            ...(flow.data.path === 'identity' ? { factors: flow.data.factors.map((f) => f.kind) } : {}),
          },
          meta,
        }, trx);
      });
      if (profile.phone) await this.notify(who.accountId, noticeMessage(profile.phone, { kind: 'phone-changed', at: changedAt, newPhone: maskPhone(newPhone) }), meta);
      await this.notify(who.accountId, phoneBoundMessage(newPhone, changedAt), meta);
      // Personal data leaves the flow once the account holds it.
      const next: RebindFlow = {
        ...flow,
        state: 'complete',
        data: { accountId: who.accountId, path: flow.data.path, factors: [], result: { phoneMasked: maskPhone(newPhone), carrier } },
      };
      return { flow: next, result: this.view(next) };
    });
  }

  /** Both codes are proven, so the phone is bound whatever the carriers say, or if they cannot answer. */
  private async carrierCheck(profile: AccountProfile, phone: string): Promise<CarrierOutcome> {
    try {
      const { match } = await this.deps.registries.carrier.verifyPhone({ idNumber: profile.idNumber, name: profile.name, phone });
      return match ? 'match' : 'no_match';
    } catch (error) {
      if (isUpstreamUnavailable(error)) return 'unavailable';
      throw error;
    }
  }

  /** The phone is already changed: a notice that cannot be sent is recorded, not a failed change. */
  private async notify(accountId: string, message: SmsMessage, meta: RequestMeta): Promise<void> {
    try {
      await this.deps.sms.send(message);
    } catch (error) {
      if (!isUpstreamUnavailable(error)) throw error;
      await this.deps.audit.append({ actor: { kind: 'system' }, action: 'sms.notice', target: { kind: 'account', id: accountId }, result: 'failure', details: { kind: 'phone-changed' }, meta });
    }
  }
}
