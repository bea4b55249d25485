import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import { consultRegistry } from '../flows/factor-checks.js';
import type { FlowStore } from '../flows/flow-store.js';
import type { Accounts } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import { maskIdNumber, maskName, maskPhone } from '../identity/masking.js';
import { hashPassword } from '../identity/password-hash.js';
import { normalisePhone } from '../identity/phone.js';
import type { Registries } from '../ports/registries/index.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import { initialPassword } from './initial-password.js';
import { atDesk, deskHolder } from './desk-flows.js';
import { auditRefusals, authorize, type StaffActor } from './roles.js';

type CounterState = 'code_sent' | 'complete';

interface CounterData {
  staffId: string;
  identity?: { idNumber: string; name: string; birthDate: string; phone: string };
  accountId?: string;
}

/** The pending registration as the desk sees it: masked. */
export interface CounterRegistrationView {
  flow_id: string;
  state: CounterState;
  expires_at: number;
  name_masked?: string;
  id_number_masked?: string;
  phone_masked?: string;
}

/** The one time the initial password is seen: on the printed hand-over sheet. */
export interface CounterRegistrationDone {
  account_id: string;
  name_masked: string;
  id_number_masked: string;
  phone_masked: string;
  /** The account name is the ID number; shown masked, the person holds the card. */
  password: string;
  agreement_version: string;
}

const FLOW_TTL_SECONDS = 20 * 60;
const ACTION = 'account.register.counter';

/**
 * Registration at the counter (线下窗口注册): the agent enters what the ID card reader gives
 * (name, ID number) and the applicant's phone; the population registry confirms the person;
 * an SMS code to the phone confirms it is theirs. The account is created at assurance
 * level 3 (verified in person), channel `counter`, with a random initial password handed
 * over once on paper with the service agreement, to be changed at first login.
 */
export class CounterRegistration {
  constructor(
    private readonly flows: FlowStore,
    private readonly accounts: Accounts,
    private readonly registries: Registries,
    private readonly smsCodes: SmsCodes,
    private readonly audit: AuditLog,
    private readonly agreementVersion: string,
  ) {}

  private view(flow: { id: string; state: CounterState; expiresAt: number; data: CounterData }): CounterRegistrationView {
    const identity = flow.data.identity;
    return {
      flow_id: flow.id, state: flow.state, expires_at: flow.expiresAt,
      ...(identity ? { name_masked: maskName(identity.name), id_number_masked: maskIdNumber(identity.idNumber), phone_masked: maskPhone(identity.phone) } : {}),
    };
  }

  /**
   * Checks the person in the population register and sends the applicant a code. The
   * lookup is audited whatever it answers (it also tells whether the ID number or the
   * phone has an account), and so is every refusal.
   */
  async start(actor: StaffActor, input: { name: string; idNumber: string; phone: string }, meta: RequestMeta): Promise<CounterRegistrationView> {
    await authorize(this.audit, actor, ['agent'], ACTION, meta);
    return auditRefusals(this.audit, actor, ACTION, meta, async () => {
      const parsed = parseIdNumber(input.idNumber.trim());
      if (!parsed.ok) throw new AppError('invalid_id_number');
      const name = input.name.trim();
      if (name.length < 1 || name.length > 50) throw new AppError('invalid_input', { field: 'name' });
      const phone = normalisePhone(input.phone);
      if (!phone) throw new AppError('invalid_phone');
      const person = await consultRegistry(() => this.registries.population.verifyPerson({ idNumber: parsed.value, name }));
      if (!person.match || person.status !== 'normal') throw new AppError(person.match ? 'person_not_eligible' : 'identity_mismatch');
      // The person is in front of the desk with their card: telling them now is no leak.
      if (await this.accounts.byIdNumber(parsed.value)) throw new AppError('already_registered');
      if (await this.accounts.byPhone(phone)) throw new AppError('phone_in_use');
      const flow = await this.flows.create<CounterState, CounterData>('counter', 'browser', 'code_sent', {
        staffId: actor.id, identity: { idNumber: parsed.value, name, birthDate: parsed.birthDate, phone },
      }, FLOW_TTL_SECONDS, deskHolder(actor));
      await this.smsCodes.send({ purpose: 'counter', phone, flowId: flow.id, ip: `staff:${actor.id}`, staffPresent: true });
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action: `${ACTION}.start`, result: 'success',
        details: { registry: 'match', id_number_masked: maskIdNumber(parsed.value), phone_masked: maskPhone(phone), flow: flow.id }, meta,
      });
      return this.view(flow);
    });
  }

  async get(actor: StaffActor, flowId: string): Promise<CounterRegistrationView> {
    const flow = await this.flows.get<CounterState, CounterData>('counter', atDesk(actor, flowId));
    if (flow.data.staffId !== actor.id) throw new AppError('flow_expired');
    return this.view(flow);
  }

  /** The code the applicant read from their phone; creates the account and returns the hand-over sheet. */
  async confirm(actor: StaffActor, flowId: string, code: string, meta: RequestMeta): Promise<CounterRegistrationDone> {
    await authorize(this.audit, actor, ['agent'], ACTION, meta);
    // A wrong or spent code, a flow gone, the ID number or phone registered meanwhile: each refusal is recorded.
    return auditRefusals(this.audit, actor, ACTION, meta, () => this.flows.step<CounterState, CounterData, CounterRegistrationDone>('counter', atDesk(actor, flowId), ['code_sent'], async (flow) => {
      const identity = flow.data.identity;
      // Another desk's pending registration is not this one's to finish (the holder is checked too).
      if (!identity || flow.data.staffId !== actor.id) throw new AppError('flow_expired');
      await this.smsCodes.verify({ purpose: 'counter', phone: identity.phone, flowId }, code.trim());
      const password = initialPassword({ idNumber: identity.idNumber, phone: identity.phone, birthDate: identity.birthDate });
      const accountId = await this.accounts.create({
        idNumber: identity.idNumber,
        name: identity.name,
        phone: identity.phone,
        passwordHash: await hashPassword(password),
        passwordMustChange: true,
        assuranceLevel: 3,
        channel: 'counter',
        agreementVersion: this.agreementVersion,
        factors: [{ kind: 'phone', normalised: identity.phone, masked: maskPhone(identity.phone) }],
      }, meta, { kind: 'staff', id: actor.id });
      const done: CounterRegistrationDone = {
        account_id: accountId, name_masked: maskName(identity.name), id_number_masked: maskIdNumber(identity.idNumber), phone_masked: maskPhone(identity.phone),
        password, agreement_version: this.agreementVersion,
      };
      // Personal data leaves the flow as soon as the account holds it.
      return { flow: { ...flow, state: 'complete', data: { staffId: actor.id, accountId } }, result: done };
    }));
  }
}
