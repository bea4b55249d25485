import { createHash, randomUUID } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { FlowStore } from '../flows/flow-store.js';
import { enterpriseStore } from '../enterprises/enterprise-store.js';
import type { Enterprises } from '../enterprises/enterprises.js';
import { activeEntry, isRepresentative, validUscc } from '../enterprises/registry-check.js';
import { isUniqueViolation } from '../identity/account-store.js';
import type { Accounts } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import { maskIdNumber, maskName, maskPhone } from '../identity/masking.js';
import { sameName } from '../identity/person-name.js';
import type { Enterprise, Registries } from '../ports/registries/index.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import { atDesk, deskHolder } from './desk-flows.js';
import { authorize, type StaffActor } from './roles.js';
import type { StaffSessions } from './staff-sessions.js';

export type CounterEnterpriseMode = 'in_person' | 'power_of_attorney';

export interface CounterEnterpriseInput {
  uscc: string;
  name: string;
  mode: CounterEnterpriseMode;
  /** As on the representative's ID card (in person) or on the power of attorney. */
  representative: { name: string; idNumber: string };
  powerOfAttorney?: {
    number?: string;
    /** The digest of the scan, typed or computed by the page; or the scan itself, hashed here and dropped. */
    sha256?: string;
    scan?: Buffer;
  };
  /** The person in front of the desk with the power of attorney, from their ID card. */
  delegate?: { name: string; idNumber: string };
}

interface PowerOfAttorney {
  number: string;
  sha256: string;
  delegateName: string;
  delegateIdNumber: string;
}

type FlowState = 'code_sent' | 'complete';

interface FlowData {
  staffId: string;
  uscc: string;
  name: string;
  representative?: { name: string; idNumber: string };
  powerOfAttorney?: PowerOfAttorney;
  enterpriseId?: string;
}

export interface CounterEnterpriseView {
  mode: CounterEnterpriseMode;
  state: FlowState;
  uscc: string;
  name: string;
  /** With a power of attorney: the flow waiting for the code sent to the representative's register phone. */
  flow_id?: string;
  code_sent_to?: string;
  enterprise_id?: string;
}

const ACTION = 'enterprise.register.counter';
const FLOW_TTL_SECONDS = 20 * 60;
const MIN_LEVEL = 2;

/**
 * Enterprise registration at the counter (线下窗口注册): the legal representative in
 * person with ID card and licence, or a delegate with a power of attorney (委托书). The
 * same register checks as online (active, same name, the representative's name and ID
 * number), and the representative must hold an active real-name account, which is bound
 * as root authority. In person, the agent's check of the card replaces the SMS code; with
 * a power of attorney, a code to the representative's phone on the register confirms,
 * and the document's number and the SHA-256 of its scan are recorded (never the scan).
 * Every refusal is audited with the agent as actor, and changes nothing.
 */
export class CounterEnterpriseRegistration {
  constructor(
    private readonly flows: FlowStore,
    private readonly accounts: Accounts,
    private readonly enterprises: Enterprises,
    private readonly registries: Registries,
    private readonly smsCodes: SmsCodes,
    private readonly staffSessions: StaffSessions,
    private readonly audit: AuditLog,
  ) {}

  private codeBinding(flowId: string, entry: Enterprise) {
    return { purpose: 'enterprise' as const, phone: entry.legalRepresentative.phone, flowId: `counter-enterprise:${flowId}` };
  }

  async start(actor: StaffActor, input: CounterEnterpriseInput, meta: RequestMeta): Promise<CounterEnterpriseView> {
    await authorize(this.audit, actor, ['agent'], ACTION, meta);
    return this.audited(actor, meta, () => input.uscc, async () => {
      const uscc = validUscc(input.uscc);
      const representative = person(input.representative);
      const powerOfAttorney = input.mode === 'power_of_attorney' ? documentOf(input) : undefined;
      const entry = await this.checked(uscc, input.name.trim(), representative);
      if (!powerOfAttorney) {
        const enterpriseId = await this.complete(actor, entry, representative, undefined, meta);
        return { mode: input.mode, state: 'complete', uscc: entry.uscc, name: entry.name, enterprise_id: enterpriseId };
      }
      const flow = await this.flows.create<FlowState, FlowData>('counter-enterprise', 'browser', 'code_sent', {
        staffId: actor.id, uscc: entry.uscc, name: entry.name, representative, powerOfAttorney,
      }, FLOW_TTL_SECONDS, deskHolder(actor));
      await this.smsCodes.send({ ...this.codeBinding(flow.id, entry), ip: `staff:${actor.id}`, staffPresent: true });
      return { mode: input.mode, state: 'code_sent', uscc: entry.uscc, name: entry.name, flow_id: flow.id, code_sent_to: maskPhone(entry.legalRepresentative.phone) };
    });
  }

  /** The pending registration, for the console session that started it. */
  async get(actor: StaffActor, flowId: string): Promise<CounterEnterpriseView> {
    const flow = await this.flows.get<FlowState, FlowData>('counter-enterprise', atDesk(actor, flowId));
    if (flow.data.staffId !== actor.id) throw new AppError('flow_expired');
    return { mode: 'power_of_attorney', state: flow.state, uscc: flow.data.uscc, name: flow.data.name, flow_id: flow.id, ...(flow.data.enterpriseId ? { enterprise_id: flow.data.enterpriseId } : {}) };
  }

  /** The code the representative's phone received, read out to the agent: the registration completes. */
  async confirm(actor: StaffActor, flowId: string, code: string, meta: RequestMeta): Promise<CounterEnterpriseView> {
    await authorize(this.audit, actor, ['agent'], ACTION, meta);
    // The refusal names the enterprise once the flow is read; a flow gone or spent names none.
    let uscc: string | undefined;
    return this.audited(actor, meta, () => uscc, () => this.flows.step<FlowState, FlowData, CounterEnterpriseView>('counter-enterprise', atDesk(actor, flowId), ['code_sent'], async (flow) => {
      uscc = flow.data.uscc;
      const { representative, powerOfAttorney } = flow.data;
      // Another agent's pending registration is not this agent's to finish.
      if (!representative || !powerOfAttorney || flow.data.staffId !== actor.id) throw new AppError('flow_expired');
      // The register is asked again: it may have changed while the code was on its way.
      const entry = await this.checked(flow.data.uscc, flow.data.name, representative);
      await this.smsCodes.verify(this.codeBinding(flow.id, entry), code.trim());
      const enterpriseId = await this.complete(actor, entry, representative, powerOfAttorney, meta);
      const done: CounterEnterpriseView = { mode: 'power_of_attorney', state: 'complete', uscc: flow.data.uscc, name: flow.data.name, flow_id: flow.id, enterprise_id: enterpriseId };
      // Personal data leaves the flow once the enterprise is registered.
      return { flow: { ...flow, state: 'complete', data: { staffId: actor.id, uscc: flow.data.uscc, name: flow.data.name, enterpriseId } }, result: done };
    }));
  }

  /** Runs a step; an error it throws is audited as this act's refusal (with the agent as actor, about the enterprise when known) and thrown again. */
  private async audited<T>(actor: StaffActor, meta: RequestMeta, uscc: () => string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError && error.code !== 'internal') {
        const about = uscc();
        await this.audit.append({
          actor: { kind: 'staff', id: actor.id }, action: ACTION, ...(about ? { target: { kind: 'enterprise_uscc', id: about.trim().toUpperCase().slice(0, 32) } } : {}),
          result: error.code === 'code_invalid' ? 'failure' : 'denied', details: { reason: error.code }, meta,
        });
      }
      throw error;
    }
  }

  /**
   * The register's entry, active and named as typed, naming this representative, who holds
   * an active real-name account under that name; and the enterprise not held by anyone yet.
   */
  private async checked(uscc: string, name: string, representative: { name: string; idNumber: string }): Promise<Enterprise> {
    const entry = await activeEntry(this.registries, uscc, name);
    if (!isRepresentative(entry, representative)) throw new AppError('enterprise_representative_mismatch');
    await this.representativeAccount(representative);
    const existing = await this.enterprises.byUscc(entry.uscc);
    if (existing) {
      const { enterprise } = await this.enterprises.applyEntry(existing.id, entry);
      if (enterprise.status !== 'active' || enterprise.representative_account_id !== null) throw new AppError('enterprise_already_registered');
    }
    return entry;
  }

  /** The representative's own account: registered, active, real-name (level 2 or more), under the register's name. */
  private async representativeAccount(representative: { name: string; idNumber: string }): Promise<string> {
    const row = await this.accounts.byIdNumber(representative.idNumber);
    if (!row || row.status !== 'active' || row.assurance_level < MIN_LEVEL) throw new AppError('enterprise_representative_not_registered');
    if (!sameName(this.accounts.profileOf(row).name, representative.name)) throw new AppError('enterprise_representative_mismatch');
    return row.id;
  }

  /**
   * Creates the enterprise bound to its representative (or fills the empty seat of one
   * registered before a change of representative), with the record of the counter check
   * and the audit record, in one transaction. The search of this console session then
   * counts as having found it.
   */
  private async complete(actor: StaffActor, entry: Enterprise, representative: { name: string; idNumber: string }, poa: PowerOfAttorney | undefined, meta: RequestMeta): Promise<string> {
    const accountId = await this.representativeAccount(representative);
    const representativeIdx = this.accounts.idNumberIndex(entry.legalRepresentative.idNumber);
    const now = new Date();
    const mode: CounterEnterpriseMode = poa ? 'power_of_attorney' : 'in_person';
    let enterpriseId: string;
    try {
      enterpriseId = await this.accounts.transaction(async (trx) => {
        const existing = await enterpriseStore.byUscc(trx, entry.uscc);
        let id = existing?.id ?? randomUUID();
        if (existing) {
          const locked = await enterpriseStore.lockById(trx, existing.id);
          if (!locked || locked.status !== 'active' || locked.registry_representative_idx !== representativeIdx) throw new AppError('enterprise_already_registered');
          if (!await enterpriseStore.claimRepresentative(trx, existing.id, accountId, now)) throw new AppError('enterprise_already_registered');
          await enterpriseStore.update(trx, existing.id, { name: entry.name, type: entry.type });
          id = existing.id;
        } else {
          await enterpriseStore.insert(trx, {
            id, uscc: entry.uscc, name: entry.name, type: entry.type, status: 'active', registry_status: entry.status, registry_checked_at: now,
            registry_representative_idx: representativeIdx, representative_account_id: accountId, representative_since: now,
          });
        }
        await enterpriseStore.insertCounterRecord(trx, {
          id: randomUUID(), enterprise_id: id, staff_id: actor.id, representative_account_id: accountId, mode,
          power_of_attorney_number: poa?.number ?? null, power_of_attorney_sha256: poa?.sha256 ?? null,
          delegate_name_masked: poa ? maskName(poa.delegateName) : null, delegate_id_number_masked: poa ? maskIdNumber(poa.delegateIdNumber) : null,
        });
        await this.audit.append({
          actor: { kind: 'staff', id: actor.id }, action: existing ? 'enterprise.representative.claim' : 'enterprise.register', target: { kind: 'enterprise', id }, result: 'success',
          details: {
            uscc: entry.uscc, type: entry.type, representative_account: accountId, via: 'counter', mode,
            ...(poa ? { power_of_attorney_number: poa.number, power_of_attorney_sha256: poa.sha256, delegate_id_number_masked: maskIdNumber(poa.delegateIdNumber) } : {}),
          },
          meta,
        }, trx);
        return id;
      });
    } catch (error) {
      if (isUniqueViolation(error, 'enterprises_uscc_key')) throw new AppError('enterprise_already_registered', {}, { cause: error });
      throw error;
    }
    await this.staffSessions.remember(actor.sessionHandle, enterpriseId);
    return enterpriseId;
  }
}

/** A name and a valid citizen ID number, as typed from a card or document. */
function person(input: { name: string; idNumber: string }): { name: string; idNumber: string } {
  const parsed = parseIdNumber(input.idNumber.trim());
  if (!parsed.ok) throw new AppError('invalid_id_number');
  const name = input.name.trim();
  if (name.length < 1 || name.length > 50) throw new AppError('invalid_input', { field: 'name' });
  return { name, idNumber: parsed.value };
}

/** The power of attorney: its number, the digest of its scan (typed, or of the scan given), and the delegate who brought it. */
function documentOf(input: CounterEnterpriseInput): PowerOfAttorney {
  const number = input.powerOfAttorney?.number?.trim() ?? '';
  if (number.length === 0) throw new AppError('power_of_attorney_required', { field: 'power_of_attorney_number' });
  if (number.length > 64) throw new AppError('invalid_input', { field: 'power_of_attorney_number' });
  const scan = input.powerOfAttorney?.scan;
  const typed = input.powerOfAttorney?.sha256?.trim().toLowerCase() ?? '';
  let sha256: string;
  if (scan && scan.length > 0) sha256 = createHash('sha256').update(scan).digest('hex');
  else if (/^[0-9a-f]{64}$/.test(typed)) sha256 = typed;
  else if (typed.length === 0) throw new AppError('power_of_attorney_required', { field: 'power_of_attorney_sha256' });
  else throw new AppError('invalid_input', { field: 'power_of_attorney_sha256' });
  if (!input.delegate) throw new AppError('invalid_input', { field: 'delegate' });
  const delegate = person(input.delegate);
  return { number, sha256, delegateName: delegate.name, delegateIdNumber: delegate.idNumber };
}
