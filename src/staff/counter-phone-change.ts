import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { FlowStore } from '../flows/flow-store.js';
import type { Accounts } from '../identity/accounts.js';
import { maskPhone } from '../identity/masking.js';
import { normalisePhone } from '../identity/phone.js';
import { phoneBoundMessage } from '../ports/sms/account-notices.js';
import { noticeMessage, type SmsGateway, type SmsMessage } from '../ports/sms/index.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import type { CitizenDesk } from './citizen-desk.js';
import type { StaffActor } from './roles.js';

type PhoneChangeState = 'code_sent' | 'complete';

interface PhoneChangeData {
  staffId: string;
  accountId: string;
  phone: string;
}

export interface PhoneChangeView {
  flow_id: string;
  account_id: string;
  state: PhoneChangeState;
  phone_masked: string;
  expires_at: number;
}

const FLOW_TTL_SECONDS = 20 * 60;

/**
 * Changing the bound phone at the counter when the old one is lost: the in-person check
 * (name and ID number from the card must be the account's), then an SMS code to the new
 * phone, read out by its holder. The old number is told, the new one too.
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

  private view(flow: { id: string; state: PhoneChangeState; expiresAt: number; data: PhoneChangeData }): PhoneChangeView {
    return { flow_id: flow.id, account_id: flow.data.accountId, state: flow.state, phone_masked: maskPhone(flow.data.phone), expires_at: flow.expiresAt };
  }

  async start(actor: StaffActor, accountId: string, input: { name: string; idNumber: string; phone: string }, meta: RequestMeta): Promise<PhoneChangeView> {
    const { row, profile } = await this.desk.inPerson(actor, accountId, input, 'account.phone_change', meta);
    const phone = normalisePhone(input.phone);
    if (!phone) throw new AppError('invalid_phone');
    if (phone === profile.phone) throw new AppError('phone_unchanged');
    if (await this.accounts.byPhone(phone)) throw new AppError('phone_in_use');
    const flow = await this.flows.create<PhoneChangeState, PhoneChangeData>('counter-phone', 'browser', 'code_sent', { staffId: actor.id, accountId: row.id, phone }, FLOW_TTL_SECONDS);
    await this.smsCodes.send({ purpose: 'counter', phone, flowId: flow.id, ip: `staff:${actor.id}`, staffPresent: true });
    return this.view(flow);
  }

  async get(actor: StaffActor, flowId: string): Promise<PhoneChangeView> {
    const flow = await this.flows.get<PhoneChangeState, PhoneChangeData>('counter-phone', { id: flowId, channel: 'browser' });
    if (flow.data.staffId !== actor.id) throw new AppError('flow_expired');
    return this.view(flow);
  }

  async confirm(actor: StaffActor, flowId: string, code: string, meta: RequestMeta): Promise<PhoneChangeView> {
    return this.flows.step<PhoneChangeState, PhoneChangeData, PhoneChangeView>('counter-phone', { id: flowId, channel: 'browser' }, ['code_sent'], async (flow) => {
      if (flow.data.staffId !== actor.id) throw new AppError('flow_expired');
      const { accountId, phone } = flow.data;
      const row = await this.accounts.row(accountId);
      if (!row || row.status !== 'active') throw new AppError('account_not_active');
      await this.smsCodes.verify({ purpose: 'counter', phone, flowId }, code.trim());
      const oldPhone = this.accounts.openField(row, 'phone');
      const at = new Date();
      await this.accounts.transaction(async (trx) => {
        await this.accounts.bindPhone(accountId, phone, trx);
        await this.audit.append({
          actor: { kind: 'staff', id: actor.id }, action: 'account.phone_change', target: { kind: 'account', id: accountId }, result: 'success',
          details: { channel: 'counter', phone_masked: maskPhone(phone), ...(oldPhone ? { old_phone_masked: maskPhone(oldPhone) } : {}) }, meta,
        }, trx);
      });
      const notices: SmsMessage[] = [phoneBoundMessage(phone, at), ...(oldPhone ? [noticeMessage(oldPhone, { kind: 'phone-changed', at, newPhone: maskPhone(phone) })] : [])];
      // A notice that cannot be sent does not undo the change; the audit record stands.
      for (const message of notices) await this.sms.send(message).catch(() => undefined);
      const next = { ...flow, state: 'complete' as const };
      return { flow: next, result: this.view(next) };
    });
  }
}
