import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Table shapes as Kysely sees them. Each table is created by a migration in ./migrations. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface OidcClientsTable {
  client_id: string;
  /** Client metadata as oidc-provider understands it, without the secret. */
  metadata: JSONColumnType<Record<string, unknown>>;
  /** HMAC-SHA-256 of the client secret; the secret itself is never stored. */
  secret_digest: string | null;
  access_policy: JSONColumnType<Record<string, unknown>>;
  source: 'file' | 'console';
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Who last set access_policy: once 'console', importing CLIENTS_FILE keeps it (0008). */
  policy_source: ColumnType<'file' | 'console', 'file' | 'console' | undefined, 'file' | 'console'>;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** The private JWK, encrypted with the data key (see crypto/field-cipher.ts). */
  private_jwk: string;
  created_at: Timestamp;
  /** Published from creation, used for signing only from here on, so verifiers see it first. */
  activate_at: Timestamp;
  /** Set when a newer key of the same algorithm takes over; the key stays published until then. */
  retire_after: NullableTimestamp;
}

export interface OidcArtifactsTable {
  model: string;
  id: string;
  payload: JSONColumnType<Record<string, unknown>>;
  grant_id: string | null;
  account_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: NullableTimestamp;
  consumed_at: NullableTimestamp;
  /** A rotated refresh token's one successor (migration 0011). */
  successor_id: string | null;
}

export type AccountStatus = 'active' | 'banned' | 'deregistered';
export type FactorKind = 'phone' | 'social_security_card' | 'bank_card' | 'housing_fund' | 'driving_licence';

export interface AccountsTable {
  id: string;
  status: AccountStatus;
  assurance_level: number;
  registration_channel: 'online' | 'counter' | 'federation';
  id_number_enc: string | null;
  id_number_idx: string | null;
  name_enc: string | null;
  phone_enc: string | null;
  phone_idx: string | null;
  address_enc: string | null;
  password_hash: string | null;
  password_must_change: ColumnType<boolean, boolean | undefined, boolean>;
  password_changed_at: NullableTimestamp;
  totp_secret_enc: string | null;
  totp_enabled_at: NullableTimestamp;
  totp_last_step: number | null;
  agreement_version: string | null;
  agreement_accepted_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  deregistered_at: NullableTimestamp;
}

export interface AccountFactorsTable {
  account_id: string;
  kind: FactorKind;
  value_idx: string;
  masked: string;
  verified_at: Timestamp;
}

export interface RecoveryCodesTable {
  account_id: string;
  code_digest: string;
  used_at: NullableTimestamp;
}

export interface AuditLogTable {
  seq: number;
  at: Timestamp;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  result: 'success' | 'failure' | 'denied';
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: JSONColumnType<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export type EnterpriseType = 'company' | 'individual_business' | 'social_organization' | 'public_institution';

export interface EnterprisesTable {
  id: string;
  uscc: string;
  name: string;
  type: EnterpriseType;
  status: 'active' | 'banned' | 'deregistered';
  registry_status: 'active' | 'revoked' | 'cancelled';
  registry_checked_at: Timestamp;
  registry_representative_idx: string;
  representative_account_id: string | null;
  representative_since: NullableTimestamp;
  password_hash: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EnterpriseApplicationsTable {
  id: string;
  uscc: string;
  name: string;
  applicant_account_id: string;
  /** Digest of the key of the session or token that started it (flows/holder.ts); null before migration 0014. */
  applicant_holder: string | null;
  representative_idx: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired' | 'withdrawn' | 'superseded';
  expires_at: Timestamp;
  decided_by: string | null;
  decided_at: NullableTimestamp;
  created_at: Timestamp;
}

/** One client's part of a grant: the service items of that client the grantee may use. */
export interface ScopeEntry {
  client_id: string;
  service_items: string[];
}

export type GrantStatus = 'pending' | 'active' | 'revoked' | 'expired';

export interface DelegationGrantsTable {
  id: string;
  enterprise_id: string;
  parent_id: string | null;
  grantor_account_id: string;
  grantee_account_id: string;
  level: number;
  scope: JSONColumnType<ScopeEntry[]>;
  valid_from: Timestamp;
  valid_until: Timestamp;
  may_redelegate: boolean;
  status: GrantStatus;
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoked_by: string | null;
}

export interface DelegationRequestsTable {
  id: string;
  enterprise_id: string;
  requester_account_id: string;
  scope: JSONColumnType<ScopeEntry[]>;
  valid_from: Timestamp;
  valid_until: Timestamp;
  reason: string | null;
  status: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  decided_by: string | null;
  decided_at: NullableTimestamp;
  grant_id: string | null;
  created_at: Timestamp;
}

export interface DelegationEventsTable {
  id: Generated<string>;
  grant_id: string;
  at: Timestamp;
  actor_account_id: string | null;
  action: string;
  details: JSONColumnType<Record<string, unknown>>;
}

/** One upstream identity (issuer and subject) mapped to a local account; see migration 0006. */
export interface FederatedIdentitiesTable {
  upstream_issuer: string;
  subject: string;
  account_id: string;
  upstream_id: string;
  linked_by: 'created' | 'local_login';
  created_at: Timestamp;
  last_login_at: NullableTimestamp;
}

export interface WechatBindingsTable {
  id: string;
  app_id: string;
  openid_idx: string;
  openid_masked: string;
  unionid_idx: string | null;
  account_id: string;
  client_id: string;
  created_at: Timestamp;
  last_login_at: NullableTimestamp;
}

export interface ActingIdentitiesTable {
  oidc_grant_id: string;
  account_id: string;
  client_id: string;
  entity_type: 'natural' | 'legal';
  enterprise_id: string | null;
  delegation_grant_id: string | null;
  created_at: Generated<Date>;
}

export type StaffRole = 'agent' | 'supervisor' | 'auditor' | 'admin';

export interface StaffAccountsTable {
  id: string;
  username: string;
  display_name: string;
  status: 'active' | 'disabled';
  password_hash: string;
  totp_secret_enc: string;
  totp_last_step: number | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** What was handed over must be replaced by the holder at the next sign-in (migration 0012). */
  password_must_change: ColumnType<boolean, boolean | undefined, boolean>;
  totp_must_enrol: ColumnType<boolean, boolean | undefined, boolean>;
  password_changed_at: Timestamp;
  /** Raised to end every console session of the member at once. */
  session_epoch: ColumnType<number, number | undefined, number>;
  last_login_at: NullableTimestamp;
}

export interface StaffRolesTable {
  staff_id: string;
  role: StaffRole;
  granted_by: string | null;
  granted_at: Timestamp;
}

export type ApprovalKind = 'account.unban' | 'enterprise.restore' | 'staff.grant_admin' | 'staff.enable';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalsTable {
  id: string;
  kind: ApprovalKind;
  target_kind: string;
  target_id: string;
  requested_by: string;
  reason: string;
  status: ApprovalStatus;
  expires_at: Timestamp;
  decided_by: string | null;
  decided_at: NullableTimestamp;
  decision_note: string | null;
  created_at: Timestamp;
}

/** How a counter registration of an enterprise was checked (migration 0009); never the scan itself. */
export interface EnterpriseCounterRegistrationsTable {
  id: string;
  enterprise_id: string;
  staff_id: string;
  representative_account_id: string;
  mode: 'in_person' | 'power_of_attorney';
  power_of_attorney_number: string | null;
  power_of_attorney_sha256: string | null;
  delegate_name_masked: string | null;
  delegate_id_number_masked: string | null;
  created_at: Timestamp;
}

/** Logins still to end after an act committed (see oidc/logout-outbox.ts). */
export interface LogoutOutboxTable {
  id: string;
  job: JSONColumnType<Record<string, unknown>>;
  created_at: Generated<Date>;
  due_at: Timestamp;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface Database {
  oidc_clients: OidcClientsTable;
  signing_keys: SigningKeysTable;
  oidc_artifacts: OidcArtifactsTable;
  accounts: AccountsTable;
  account_factors: AccountFactorsTable;
  recovery_codes: RecoveryCodesTable;
  audit_log: AuditLogTable;
  enterprises: EnterprisesTable;
  enterprise_applications: EnterpriseApplicationsTable;
  delegation_grants: DelegationGrantsTable;
  delegation_requests: DelegationRequestsTable;
  delegation_events: DelegationEventsTable;
  federated_identities: FederatedIdentitiesTable;
  acting_identities: ActingIdentitiesTable;
  staff_accounts: StaffAccountsTable;
  staff_roles: StaffRolesTable;
  approvals: ApprovalsTable;
  wechat_bindings: WechatBindingsTable;
  logout_outbox: LogoutOutboxTable;
  enterprise_counter_registrations: EnterpriseCounterRegistrationsTable;
}

export type { Generated };
