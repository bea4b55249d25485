import type { AuditLog } from '../audit/audit-log.js';
import type { KeyedDigest } from '../crypto/digest.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import type { SecurityEvents } from '../audit/audit-queries.js';
import type { FlowStore } from '../flows/flow-store.js';
import type { Accounts } from '../identity/accounts.js';
import type { LogoutOutbox } from '../oidc/logout-outbox.js';
import type { AccountSessions } from '../oidc/account-sessions.js';
import type { Registries } from '../ports/registries/index.js';
import type { SmsGateway } from '../ports/sms/index.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import type { ActingAuthority } from '../delegation/acting-authority.js';
import type { Delegations } from '../delegation/delegations.js';
import type { Enterprises } from '../enterprises/enterprises.js';
import { Approvals } from './approvals.js';
import { AuditViewer } from './audit-viewer.js';
import { ClientAdministration } from './client-admin.js';
import type { ClientPolicies } from '../oidc/client-policies.js';
import type { ClientRegistry, MetadataValidator } from '../oidc/clients.js';
import { CitizenDesk } from './citizen-desk.js';
import { CounterPhoneChange } from './counter-phone-change.js';
import { CounterRegistration } from './counter-registration.js';
import { CounterEnterpriseRegistration } from './counter-enterprise.js';
import { EnterpriseDesk } from './enterprise-desk.js';
import { StaffAccounts } from './staff-accounts.js';
import { StaffCredentials } from './staff-credentials.js';
import { StaffLifecycle } from './staff-lifecycle.js';
import { StaffLock } from './staff-lock.js';
import { StaffLogin } from './staff-login.js';
import { StaffSessions } from './staff-sessions.js';
import { staffStore } from './staff-store.js';

/** The helpdesk and administration side, built once by the composition root. */
export interface StaffServices {
  accounts: StaffAccounts;
  sessions: StaffSessions;
  login: StaffLogin;
  /** A member's own password and authenticator: first sign-in, expiry, later changes. */
  credentials: StaffCredentials;
  /** Disable and re-enable, roles, authenticator reset, unlock. */
  lifecycle: StaffLifecycle;
  approvals: Approvals;
  citizens: CitizenDesk;
  counter: CounterRegistration;
  auditViewer: AuditViewer;
  phoneChange: CounterPhoneChange;
  /** Enterprise accounts: search, page, deregistration and restore (enterprise-desk.ts). */
  enterprises: EnterpriseDesk;
  counterEnterprise: CounterEnterpriseRegistration;
  /** Relying parties and their access policies (admins). */
  clients: ClientAdministration;
}

export interface StaffServiceDependencies {
  db: Db;
  cache: Cache;
  cipher: FieldCipher;
  digest: KeyedDigest;
  audit: AuditLog;
  accounts: Accounts;
  accountSessions: AccountSessions;
  logouts: LogoutOutbox;
  securityEvents: SecurityEvents;
  flows: FlowStore;
  registries: Registries;
  smsCodes: SmsCodes;
  sms: SmsGateway;
  agreementVersion: string;
  enterprises: Enterprises;
  delegations: Delegations;
  acting: ActingAuthority;
  clients: ClientRegistry;
  clientPolicies: ClientPolicies;
  /** oidc-provider's own validation of client metadata. */
  validateClient: MetadataValidator;
  production: boolean;
  /** A staff password is due for a change after this many days (STAFF_PASSWORD_MAX_AGE_DAYS). */
  staffPasswordMaxAgeDays: number;
}

export function buildStaffServices(deps: StaffServiceDependencies): StaffServices {
  const lock = new StaffLock(deps.cache, deps.audit);
  const sessions = new StaffSessions(deps.cache, deps.digest);
  const credentials = new StaffCredentials(deps.db, deps.cache, deps.cipher, lock, sessions, deps.audit, deps.staffPasswordMaxAgeDays);
  const accounts = new StaffAccounts(deps.db, deps.cipher, deps.audit, credentials, lock);
  const login = new StaffLogin(accounts, sessions, credentials, lock, deps.cache, deps.digest, deps.audit);
  const approvals = new Approvals(deps.db, deps.audit);
  approvals.onApproved('staff.grant_admin', (approval, decider, trx, meta) => accounts.grantApprovedAdmin(approval, decider, trx, meta));
  const staffMember = (groundsAction?: string) => async (staffId: string) => {
    const row = await staffStore.byId(deps.db, staffId);
    if (!row) return undefined;
    const grounds = groundsAction ? await deps.securityEvents.grounds('staff', staffId, groundsAction) : undefined;
    return { label: row.display_name ? `${row.username}（${row.display_name}）` : row.username, href: '/admin/staff', ...(grounds ? { grounds } : {}) };
  };
  approvals.describe('staff.grant_admin', staffMember());
  approvals.describe('staff.enable', staffMember('staff.disable'));
  const lifecycle = new StaffLifecycle(deps.db, accounts, approvals, lock, deps.cipher, deps.audit);
  const citizens = new CitizenDesk(deps.accounts, deps.accountSessions, deps.logouts, sessions, deps.securityEvents, approvals, deps.sms, deps.audit);
  const counter = new CounterRegistration(deps.flows, deps.accounts, deps.registries, deps.smsCodes, deps.audit, deps.agreementVersion);
  const phoneChange = new CounterPhoneChange(deps.flows, deps.accounts, citizens, deps.smsCodes, deps.sms, deps.audit);
  const enterprises = new EnterpriseDesk(deps.db, deps.accounts, deps.delegations, deps.logouts, sessions, deps.securityEvents, approvals, deps.audit);
  const counterEnterprise = new CounterEnterpriseRegistration(deps.flows, deps.accounts, deps.enterprises, deps.registries, deps.smsCodes, sessions, deps.audit);
  return { accounts, sessions, login, credentials, lifecycle, approvals, citizens, counter, auditViewer: new AuditViewer(deps.db, deps.audit), phoneChange, enterprises, counterEnterprise,
    clients: new ClientAdministration(deps.clients, deps.clientPolicies, deps.validateClient, deps.audit, deps.production),
  };
}
