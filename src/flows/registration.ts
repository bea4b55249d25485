import type { RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Accounts, VerifiedFactor } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import { maskIdNumber, maskName, maskPhone } from '../identity/masking.js';
import { hashPassword } from '../identity/password-hash.js';
import { checkPassword } from '../identity/password-policy.js';
import { normalisePhone } from '../identity/phone.js';
import type { Registries } from '../ports/registries/index.js';
import type { FactorKind } from '../store/schema.js';
import type { RealNameCheck, RealNameChecks } from '../verification/real-name-checks.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import { consultRegistry, verifyDocumentFactor, type DocumentFactorKind } from './factor-checks.js';
import type { Flow, FlowChannel, FlowRef, FlowStarter, FlowStore, StartedFlow } from './flow-store.js';

export type RegistrationState = 'identity' | 'factors' | 'complete';

interface RegistrationData {
  identity?: { idNumber: string; name: string; birthDate: string };
  factors: VerifiedFactor[];
  /** The phone being verified by SMS, then the one to bind to the account. */
  phone?: { number: string; verified: boolean };
  accountId?: string;
}

type RegistrationFlow = Flow<RegistrationState, RegistrationData>;
type Captcha = { id?: string; answer?: string };

export type { FlowRef };

export type { DocumentFactorKind };

export interface RegistrationView {
  flow_id: string;
  /** API only, in the answer that starts the flow: send it as X-Flow-Token with every later call. */
  flow_token?: string;
  channel: FlowChannel;
  state: RegistrationState;
  expires_at: number;
  identity?: { name_masked: string; id_number_masked: string };
  verified_factors: Array<{ kind: FactorKind; masked: string }>;
  phone?: { masked: string; verified: boolean };
  factors_needed: number;
  ready_to_complete: boolean;
  /** Enough factors without a phone: the person may complete with `without_phone` (no SMS login, recovery at a counter). */
  ready_without_phone: boolean;
  account_id?: string;
}

export const REQUIRED_FACTORS = 2;
const FLOW_TTL_SECONDS = 30 * 60;

/**
 * Online real-name registration (国办函〔2016〕108号 §5): the citizen ID and name, checked
 * against the population registry; at least two further factors of different kinds, each
 * verified; a phone verified by SMS to bind; a password and the service agreement. The
 * account (assurance level 2) is created in one transaction at the very end, so nothing is
 * half-registered, and whether the ID number was already registered is told only then.
 */
export class Registration {
  constructor(
    private readonly flows: FlowStore,
    private readonly accounts: Accounts,
    private readonly registries: Registries,
    private readonly smsCodes: SmsCodes,
    private readonly agreementVersion: string,
    private readonly checks: RealNameChecks,
  ) {}

  view(flow: RegistrationFlow | StartedFlow<RegistrationState, RegistrationData>): RegistrationView {
    const { data } = flow;
    return {
      flow_id: flow.id,
      ...('holder' in flow && flow.channel === 'api' ? { flow_token: flow.holder } : {}),
      channel: flow.channel,
      state: flow.state,
      expires_at: flow.expiresAt,
      ...(data.identity ? { identity: { name_masked: maskName(data.identity.name), id_number_masked: maskIdNumber(data.identity.idNumber) } } : {}),
      verified_factors: data.factors.map((f) => ({ kind: f.kind, masked: f.masked })),
      ...(data.phone ? { phone: { masked: maskPhone(data.phone.number), verified: data.phone.verified } } : {}),
      factors_needed: Math.max(0, REQUIRED_FACTORS - data.factors.length),
      ready_to_complete: flow.state === 'factors' && data.factors.length >= REQUIRED_FACTORS && Boolean(data.phone?.verified),
      ready_without_phone: flow.state === 'factors' && data.factors.length >= REQUIRED_FACTORS && !data.phone?.verified,
      ...(data.accountId ? { account_id: data.accountId } : {}),
    };
  }

  async start(starter: FlowStarter): Promise<RegistrationView> {
    return this.view(await this.flows.create<RegistrationState, RegistrationData>('registration', starter.channel, 'identity', { factors: [] }, FLOW_TTL_SECONDS, starter.bind));
  }

  async get(at: FlowRef): Promise<RegistrationView> {
    return this.view(await this.flows.get<RegistrationState, RegistrationData>('registration', at));
  }

  /** The flow for its page, with whether its next real-name check from this address needs a captcha (one read of the flow). */
  async forPage(at: FlowRef, ip: string): Promise<{ view: RegistrationView; checkNeedsCaptcha: boolean }> {
    const flow = await this.flows.get<RegistrationState, RegistrationData>('registration', at);
    const checkNeedsCaptcha = await this.checks.captchaRequired(ip, flow.data.identity ? this.personOf(flow.data.identity) : undefined);
    return { view: this.view(flow), checkNeedsCaptcha };
  }

  private consult<T>(call: () => Promise<T>): Promise<T> {
    return consultRegistry(call);
  }

  /** The digests a person's checks are counted by (never the ID number itself). */
  private personOf(person: { idNumber: string; name: string }): Pick<RealNameCheck, 'idIndex' | 'personIndex'> {
    return { idIndex: this.accounts.idNumberIndex(person.idNumber), personIndex: this.accounts.guessIndex(person.idNumber, person.name) };
  }

  private check(flow: RegistrationFlow, person: { idNumber: string; name: string }, what: Pick<RealNameCheck, 'check' | 'refusal'>, captcha: Captcha | undefined, meta: RequestMeta): RealNameCheck {
    return {
      ...what, flowId: flow.id, channel: flow.channel, idNumber: person.idNumber, captcha, meta,
      ...this.personOf(person),
    };
  }

  private step<T>(at: FlowRef, allowed: RegistrationState[], run: (flow: RegistrationFlow) => Promise<{ flow?: RegistrationFlow; result: T }>) {
    return this.flows.step<RegistrationState, RegistrationData, T>('registration', at, allowed, run);
  }

  /**
   * A stranger learns only "verified" or "not verified": whether the ID number exists,
   * whether the name was wrong or the person is deceased is the registry's and the audit
   * log's to know (the counter tells a person who comes in with their ID card).
   */
  async submitIdentity(at: FlowRef, input: { name: string; idNumber: string; captcha?: Captcha }, meta: RequestMeta): Promise<RegistrationView> {
    return this.step(at, ['identity'], async (flow) => {
      const parsed = parseIdNumber(input.idNumber);
      if (!parsed.ok) throw new AppError('invalid_id_number', { field: 'id_number' });
      const name = input.name.trim();
      if (name.length < 1 || name.length > 50) throw new AppError('invalid_input', { field: 'name' });
      await this.checks.run(this.check(flow, { idNumber: parsed.value, name }, { check: 'identity', refusal: 'identity_mismatch' }, input.captcha, meta), async () => {
        const person = await this.consult(() => this.registries.population.verifyPerson({ idNumber: parsed.value, name }));
        if (!person.match) return { match: false, reason: 'mismatch' };
        if (person.status !== 'normal') return { match: false, reason: 'not_eligible' };
        return { match: true, value: person };
      });
      const next: RegistrationFlow = { ...flow, state: 'factors', data: { ...flow.data, identity: { idNumber: parsed.value, name, birthDate: parsed.birthDate } } };
      return { flow: next, result: this.view(next) };
    });
  }

  async sendPhoneCode(at: FlowRef, input: { phone: string; captcha?: { id?: string; answer?: string } }, meta: RequestMeta): Promise<{ ttl_seconds: number }> {
    return this.step(at, ['factors'], async (flow) => {
      const phone = normalisePhone(input.phone);
      if (!phone) throw new AppError('invalid_phone');
      const sent = await this.smsCodes.send({ purpose: 'register', phone, flowId: at.id, ip: meta.ip ?? 'unknown', captcha: input.captcha });
      // Until the new number is verified, the flow has no verified phone to bind, and so no phone factor either.
      const factors = flow.data.factors.filter((f) => f.kind !== 'phone');
      const next: RegistrationFlow = { ...flow, data: { ...flow.data, factors, phone: { number: phone, verified: false } } };
      return { flow: next, result: { ttl_seconds: sent.ttlSeconds } };
    });
  }

  /**
   * The code proves the person holds the phone, so it can be bound; the carrier's
   * real-name check decides whether it also counts as one of the factors.
   */
  async verifyPhone(at: FlowRef, input: { code: string }): Promise<RegistrationView> {
    return this.step(at, ['factors'], async (flow) => {
      const { identity, phone } = flow.data;
      if (!identity || !phone || phone.verified) throw new AppError('flow_step_invalid');
      await this.smsCodes.verify({ purpose: 'register', phone: phone.number, flowId: at.id }, input.code.trim());
      const carrier = await this.consult(() => this.registries.carrier.verifyPhone({ idNumber: identity.idNumber, name: identity.name, phone: phone.number }));
      const factors = carrier.match
        ? [...flow.data.factors.filter((f) => f.kind !== 'phone'), { kind: 'phone' as const, normalised: phone.number, masked: maskPhone(phone.number) }]
        : flow.data.factors;
      const next: RegistrationFlow = { ...flow, data: { ...flow.data, factors, phone: { number: phone.number, verified: true } } };
      return { flow: next, result: this.view(next) };
    });
  }

  async verifyFactor(at: FlowRef, input: { kind: DocumentFactorKind; number: string; reservedPhone?: string; captcha?: Captcha }, meta: RequestMeta): Promise<RegistrationView> {
    return this.step(at, ['factors'], async (flow) => {
      const { identity } = flow.data;
      if (!identity) throw new AppError('flow_step_invalid');
      if (flow.data.factors.some((f) => f.kind === input.kind)) throw new AppError('factor_duplicate');
      const factor = await this.checks.run(this.check(flow, identity, { check: input.kind, refusal: 'factor_mismatch' }, input.captcha, meta), async () => {
        try {
          return { match: true, value: await verifyDocumentFactor(this.registries, { idNumber: identity.idNumber, name: identity.name }, input) };
        } catch (error) {
          if (error instanceof AppError && error.code === 'factor_mismatch') return { match: false, reason: 'mismatch' };
          throw error;
        }
      });
      const next: RegistrationFlow = { ...flow, data: { ...flow.data, factors: [...flow.data.factors, factor] } };
      return { flow: next, result: this.view(next) };
    });
  }

  /**
   * Creates the account. A person without a mobile phone may register with two other
   * factors (国办函〔2016〕108号 §5.1.2) by saying so (`withoutPhone`): a phone typed but
   * never verified is then not bound, and the account signs in by ID number and password,
   * its phone bound later at a counter or by re-binding.
   */
  async complete(at: FlowRef, input: { password: string; acceptAgreement: boolean; withoutPhone?: boolean }, meta: RequestMeta): Promise<RegistrationView> {
    return this.step(at, ['factors'], async (flow) => {
      const { identity } = flow.data;
      if (!identity) throw new AppError('flow_step_invalid');
      const phone = flow.data.phone?.verified ? flow.data.phone.number : undefined;
      // A phone counts as a factor only as the phone the account is bound to.
      const factors = phone ? flow.data.factors : flow.data.factors.filter((f) => f.kind !== 'phone');
      if (factors.length < REQUIRED_FACTORS) throw new AppError('factors_insufficient');
      if (!phone && !input.withoutPhone) throw new AppError('phone_required');
      if (!input.acceptAgreement) throw new AppError('agreement_required');
      const policy = checkPassword(input.password, { idNumber: identity.idNumber, phone, birthDate: identity.birthDate });
      if (!policy.ok) throw new AppError('weak_password', { reason: policy.reason });
      // Only now, with the factors proven, may the person learn that the ID is taken.
      if (await this.accounts.byIdNumber(identity.idNumber)) throw new AppError('already_registered');
      const accountId = await this.accounts.create({
        idNumber: identity.idNumber,
        name: identity.name,
        phone,
        passwordHash: await hashPassword(policy.normalised),
        passwordMustChange: false,
        assuranceLevel: 2,
        channel: 'online',
        agreementVersion: this.agreementVersion,
        factors,
      }, meta);
      // Personal data leaves the flow as soon as the account holds it.
      const next: RegistrationFlow = { ...flow, state: 'complete', data: { factors: [], accountId } };
      return { flow: next, result: this.view(next) };
    });
  }
}
