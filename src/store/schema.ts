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
  uid: string | null;
  user_code: string | null;
  expires_at: NullableTimestamp;
  consumed_at: NullableTimestamp;
}

export interface Database {
  oidc_clients: OidcClientsTable;
  signing_keys: SigningKeysTable;
  oidc_artifacts: OidcArtifactsTable;
}

export type { Generated };
