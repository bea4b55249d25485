import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Flow, FlowStore } from '../flows/flow-store.js';
import type { Accounts } from '../identity/accounts.js';
import { maskPhone } from '../identity/masking.js';
import { normalisePhone } from '../identity/phone.js';
import { phoneBoundMessage } from '../ports/sms/account-notices.js';
import { noticeMessage, type SmsGateway, type SmsMessage } from '../ports/sms/index.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import type { CitizenDesk } from './citizen-desk.js';
import { atDesk, deskHolder } from './desk-flows.js';
import { auditRefusals, authorize, type StaffActor } from './roles.js';

type PhoneChangeState = 'code_sent' | 'complete';

interface PhoneChangeData {
  staffId: string;
  accountId: string;
  phone: string;
}

type PhoneChangeFlow = Flow<PhoneChangeState, PhoneChangeData>;

export interface PhoneChangeView {
  flow_id: string;
  account_id: string;
  state: PhoneChangeState;
  phone_masked: string;
  expires_at: number;
}

const FLOW_TTL_SECONDS = 20 * 60;
const ACTION = 'account.phone_change';

/**
 * Changing the bound phone at the counter when the old one is lost: the in-person check
 * (name and ID number from the card must be the account's), then an SMS code to the new
 * phone, read out by its holder. The old number is told, the new one too. Only agents
 * act; every lookup of the new number and every refusal is audited, like counter
 * registration's, against the account.
 */
export class CounterPhoneChange {
  constructor(
    private readonly flows: FlowStore,
    private readonly accounts: Accounts,
    private readonly desk: CitizenDesk,
    private readonly smsCodes: SmsCodes,
    private readonly sms: SmsGateway,
    private readonly audit: AuditLog,
  ) {}

  private view(flow: Pick<PhoneChangeFlow, 'id' | 'state' | 'expiresAt' | 'data'>): PhoneChangeView {
    return { flow_id: flow.id, account_id: flow.data.accountId, state: flow.state, phone_masked: maskPhone(flow.data.phone), expires_at: flow.expiresAt };
  }

  /**
   * The in-person check, then the new phone: the lookup tells whether the number already
   * has an account, so it is audited whatever it answers, and so is every refusal.
   */
  async start(actor: StaffActor, accountId: string, input: { name: string; idNumber: string; phone: string }, meta: RequestMeta): Promise<PhoneChangeView> {
    const { row, profile } = await this.desk.inPerson(actor, accountId, input, ACTION, meta);
    const target = { kind: 'account', id: row.id };
    return auditRefusals(this.audit, actor, ACTION, meta, async () => {
      const phone = normalisePhone(input.phone);
      if (!phone) throw new AppError('invalid_phone');
      if (phone === profile.phone) throw new AppError('phone_unchanged');
      if (await this.accounts.byPhone(phone)) throw new AppError('phone_in_use');
      const flow = await this.flows.create<PhoneChangeState, PhoneChangeData>('counter-phone', 'browser', 'code_sent', { staffId: actor.id, accountId: row.id, phone }, FLOW_TTL_SECONDS, deskHolder(actor));
      await this.smsCodes.send({ purpose: 'counter', phone, flowId: flow.id, ip: `staff:${actor.id}`, staffPresent: true });
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action: `${ACTION}.start`, target, result: 'success',
        details: { phone_masked: maskPhone(phone), flow: flow.id }, meta,
      });
      return this.view(flow);
    }, target);
  }

  async get(actor: StaffActor, flowId: string): Promise<PhoneChangeView> {
    const flow = await this.flows.get<PhoneChangeState, PhoneChangeData>('counter-phone', atDesk(actor, flowId));
    if (flow.data.staffId !== actor.id) throw new AppError('flow_expired');
    return this.view(flow);
  }

  /** The new phone's code, read out by its holder; a refusal (a flow gone or another agent's, the account no longer active, a wrong code) is audited. */
  async confirm(actor: StaffActor, flowId: string, code: string, meta: RequestMeta): Promise<PhoneChangeView> {
    await authorize(this.audit, actor, ['agent'], ACTION, meta);
    // A flow that is gone names no account; one that is found names its account in the refusal.
    return auditRefusals(this.audit, actor, ACTION, meta, () => this.flows.step<PhoneChangeState, PhoneChangeData, PhoneChangeView>('counter-phone', atDesk(actor, flowId), ['code_sent'], (flow) => (
      auditRefusals(this.audit, actor, ACTION, meta, () => this.bind(actor, flow, code, meta), { kind: 'account', id: flow.data.accountId })
    )));
  }

  /** Checks the code and binds the phone, with its record, in one transaction; then both numbers are told. */
  private async bind(actor: StaffActor, flow: PhoneChangeFlow, code: string, meta: RequestMeta): Promise<{ flow: PhoneChangeFlow; result: PhoneChangeView }> {
    if (flow.data.staffId !== actor.id) throw new AppError('flow_expired');
    const { accountId, phone } = flow.data;
    const row = await this.accounts.row(accountId);
    if (!row || row.status !== 'active') throw new AppError('account_not_active');
    await this.smsCodes.verify({ purpose: 'counter', phone, flowId: flow.id }, code.trim());
    const oldPhone = this.accounts.openField(row, 'phone');
    const at = new Date();
    await this.accounts.transaction(async (trx) => {
      await this.accounts.bindPhone(accountId, phone, trx);
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action: ACTION, target: { kind: 'account', id: accountId }, result: 'success',
        details: { channel: 'counter', phone_masked: maskPhone(phone), ...(oldPhone ? { old_phone_masked: maskPhone(oldPhone) } : {}) }, meta,
      }, trx);
    });
    const notices: SmsMessage[] = [phoneBoundMessage(phone, at), ...(oldPhone ? [noticeMessage(oldPhone, { kind: 'phone-changed', at, newPhone: maskPhone(phone) })] : [])];
    // A notice that cannot be sent does not undo the change; the audit record stands.
    for (const message of notices) await this.sms.send(message).catch(() => undefined);
    const next = { ...flow, state: 'complete' as const };
    return { flow: next, result: this.view(next) };
  }
}
