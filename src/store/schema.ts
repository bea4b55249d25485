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

export interface Database {
  oidc_clients: OidcClientsTable;
  signing_keys: SigningKeysTable;
  oidc_artifacts: OidcArtifactsTable;
  accounts: AccountsTable;
  account_factors: AccountFactorsTable;
  recovery_codes: RecoveryCodesTable;
  audit_log: AuditLogTable;
}

export type { Generated };
