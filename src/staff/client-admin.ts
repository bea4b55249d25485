import { randomBytes } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import { accessPolicySchema, storedPolicy, type AccessPolicy } from '../oidc/access-policy.js';
import type { ClientPolicies } from '../oidc/client-policies.js';
import type { ClientRegistry, ClientRow, MetadataValidator } from '../oidc/clients.js';
import { WECHAT_GRANT_TYPE } from '../oidc/wechat-grant.js';
import { authorize, type StaffActor } from './roles.js';

export const CLIENT_KINDS = ['web', 'native', 'mini-program', 'service'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What each kind of client is registered as; PKCE is mandatory for the public ones (configuration/pkce.ts). */
const PRESETS: Record<ClientKind, Record<string, unknown>> = {
  /** A portal: confidential, code flow, refresh tokens. */
  web: { application_type: 'web', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
  /** An app: public, PKCE, native redirects (custom scheme, claimed https or loopback). */
  native: { application_type: 'native', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
  /** A WeChat mini-program: public, PKCE in its web-view, and the WeChat login grant. */
  'mini-program': { application_type: 'web', grant_types: ['authorization_code', 'refresh_token', WECHAT_GRANT_TYPE], response_types: ['code'], token_endpoint_auth_method: 'none' },
  /** A back-end service calling APIs in its own name: client_credentials only, no people. */
  service: { application_type: 'web', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' },
};

/** A new client as an administrator describes it. */
export interface ClientDraft {
  clientId: string;
  clientName: string;
  kind: ClientKind;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  /** Overrides of the kind's preset; oidc-provider refuses what it does not support. */
  grantTypes?: string[];
  responseTypes?: string[];
  accessPolicy?: unknown;
}

/** The metadata an administrator may change; an empty back-channel URI removes it. */
export interface ClientEdit {
  clientName?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string | null;
}

/** A client as the console shows it; the secret never appears, not even as its digest. */
export interface ClientView {
  client_id: string;
  client_name: string;
  kind: ClientKind;
  source: 'file' | 'console';
  policy_source: 'file' | 'console';
  confidential: boolean;
  application_type: string;
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri: string | null;
  access_policy: AccessPolicy;
  policy_summary: {
    entity_types: AccessPolicy['entity_types'];
    min_assurance_level: number;
    login_methods: string[] | 'any';
    release_id_number: boolean;
    release_phone_number: boolean;
    release_name: boolean;
    service_items: number;
    allow_accounts: number | null;
    deny_accounts: number;
  };
  created_at: Date;
  updated_at: Date;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

export function kindOf(metadata: Record<string, unknown>): ClientKind {
  const grants = strings(metadata.grant_types ?? ['authorization_code']);
  if (grants.includes(WECHAT_GRANT_TYPE)) return 'mini-program';
  if (metadata.application_type === 'native') return 'native';
  if (!grants.includes('authorization_code') && grants.includes('client_credentials')) return 'service';
  return 'web';
}

function viewOf(row: ClientRow): ClientView {
  const m = row.metadata;
  const policy = storedPolicy(row.access_policy);
  return {
    client_id: row.client_id,
    client_name: typeof m.client_name === 'string' ? m.client_name : row.client_id,
    kind: kindOf(m),
    source: row.source,
    policy_source: row.policy_source,
    confidential: row.secret_digest !== null,
    application_type: typeof m.application_type === 'string' ? m.application_type : 'web',
    grant_types: strings(m.grant_types ?? ['authorization_code']),
    response_types: strings(m.response_types ?? ['code']),
    token_endpoint_auth_method: typeof m.token_endpoint_auth_method === 'string' ? m.token_endpoint_auth_method : 'client_secret_basic',
    redirect_uris: strings(m.redirect_uris),
    post_logout_redirect_uris: strings(m.post_logout_redirect_uris),
    backchannel_logout_uri: typeof m.backchannel_logout_uri === 'string' ? m.backchannel_logout_uri : null,
    access_policy: policy,
    policy_summary: {
      entity_types: policy.entity_types,
      min_assurance_level: policy.min_assurance_level,
      login_methods: policy.login_methods ?? 'any',
      release_id_number: policy.release_id_number,
      release_phone_number: policy.release_phone_number,
      release_name: policy.release_name,
      service_items: policy.service_items.length,
      allow_accounts: policy.allow_accounts ? policy.allow_accounts.length : null,
      deny_accounts: policy.deny_accounts.length,
    },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** A client secret: 256 random bits, shown once, kept only as its keyed digest. */
function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Registering and governing relying parties from the console (admins only). Metadata goes
 * through oidc-provider's own validation, after our stricter rules on addresses, before
 * anything is stored; secrets are shown once and kept as keyed digests; every change and
 * every refusal is audited. Clients from CLIENTS_FILE keep the file as their source: their
 * metadata and secret are refused here (the next start would put the file's back), their
 * access policy may be set here and is then kept across imports.
 */
export class ClientAdministration {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly policies: ClientPolicies,
    private readonly validate: MetadataValidator,
    private readonly audit: AuditLog,
    private readonly production: boolean,
  ) {}

  async list(actor: StaffActor, meta: RequestMeta): Promise<ClientView[]> {
    await authorize(this.audit, actor, ['admin'], 'client.list', meta);
    return (await this.clients.list()).map(viewOf);
  }

  async detail(actor: StaffActor, clientId: string, meta: RequestMeta): Promise<ClientView> {
    await authorize(this.audit, actor, ['admin'], 'client.read', meta);
    const row = await this.clients.row(clientId);
    if (!row) throw new AppError('not_found');
    return viewOf(row);
  }

  /** Registers a client; a confidential one's secret is in the answer, and nowhere else ever. */
  async register(actor: StaffActor, draft: ClientDraft, meta: RequestMeta): Promise<{ client: ClientView; secret?: string }> {
    const action = 'client.register';
    await authorize(this.audit, actor, ['admin'], action, meta);
    const target = { kind: 'client', id: draft.clientId };
    return this.refusingAudited(actor, action, target, meta, async () => {
      if (!CLIENT_ID.test(draft.clientId)) throw new AppError('invalid_input', { field: 'client_id' });
      const policy = accessPolicySchema.safeParse(draft.accessPolicy ?? {});
      if (!policy.success) throw new AppError('invalid_input', { field: `access_policy.${policy.error.issues[0]?.path.join('.') ?? ''}` });
      const metadata: Record<string, unknown> = {
        ...PRESETS[draft.kind],
        client_id: draft.clientId,
        client_name: draft.clientName,
        ...(draft.kind === 'service' ? {} : { redirect_uris: draft.redirectUris ?? [], post_logout_redirect_uris: draft.postLogoutRedirectUris ?? [] }),
        ...(draft.backchannelLogoutUri ? { backchannel_logout_uri: draft.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
        ...(draft.grantTypes ? { grant_types: draft.grantTypes } : {}),
        ...(draft.responseTypes ? { response_types: draft.responseTypes } : {}),
      };
      const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : newSecret();
      const secretDigest = secret ? this.clients.secretDigest(secret) : null;
      await this.check(draft.kind, metadata, secretDigest, policy.data);
      if (!await this.clients.insert({ clientId: draft.clientId, metadata, secretDigest, policy: policy.data })) throw new AppError('client_exists');
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action, target, result: 'success',
        details: { kind: draft.kind, confidential: Boolean(secret), metadata, access_policy: policy.data }, meta,
      });
      return { client: viewOf((await this.clients.row(draft.clientId))!), ...(secret ? { secret } : {}) };
    });
  }

  /** Changes names and addresses; applies to the next request (the registry forgets its cached copy). */
  async update(actor: StaffActor, clientId: string, edit: ClientEdit, meta: RequestMeta): Promise<ClientView> {
    const action = 'client.update';
    await authorize(this.audit, actor, ['admin'], action, meta);
    const target = { kind: 'client', id: clientId };
    return this.refusingAudited(actor, action, target, meta, async () => {
      const row = await this.consoleClient(clientId);
      const kind = kindOf(row.metadata);
      const before = row.metadata;
      const after: Record<string, unknown> = { ...before };
      if (edit.clientName !== undefined) after.client_name = edit.clientName;
      if (edit.redirectUris !== undefined && kind !== 'service') after.redirect_uris = edit.redirectUris;
      if (edit.postLogoutRedirectUris !== undefined && kind !== 'service') after.post_logout_redirect_uris = edit.postLogoutRedirectUris;
      if (edit.backchannelLogoutUri === null || edit.backchannelLogoutUri === '') {
        delete after.backchannel_logout_uri;
        delete after.backchannel_logout_session_required;
      } else if (edit.backchannelLogoutUri !== undefined) {
        after.backchannel_logout_uri = edit.backchannelLogoutUri;
        after.backchannel_logout_session_required = true;
      }
      await this.check(kind, after, row.secret_digest, accessPolicySchema.parse(row.access_policy ?? {}));
      if (!await this.clients.replaceMetadata(clientId, after)) throw new AppError('not_found');
      const changed = Object.keys({ ...before, ...after }).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action, target, result: 'success',
        details: { changed, before: Object.fromEntries(changed.map((k) => [k, before[k] ?? null])), after: Object.fromEntries(changed.map((k) => [k, after[k] ?? null])) }, meta,
      });
      return viewOf((await this.clients.row(clientId))!);
    });
  }

  /** A new secret for a confidential console client, shown once; the old one fails from now on. */
  async rotateSecret(actor: StaffActor, clientId: string, meta: RequestMeta): Promise<{ client_id: string; secret: string }> {
    const action = 'client.secret_rotate';
    await authorize(this.audit, actor, ['admin'], action, meta);
    const target = { kind: 'client', id: clientId };
    return this.refusingAudited(actor, action, target, meta, async () => {
      const row = await this.consoleClient(clientId);
      if (row.secret_digest === null) throw new AppError('client_no_secret');
      const secret = newSecret();
      if (!await this.clients.replaceSecretDigest(clientId, this.clients.secretDigest(secret))) throw new AppError('not_found');
      await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action, target, result: 'success', details: {}, meta });
      return { client_id: clientId, secret };
    });
  }

  /** The access policy, for file clients as well (then kept across imports); see ClientPolicies. */
  async updatePolicy(actor: StaffActor, clientId: string, policy: unknown, meta: RequestMeta): Promise<ClientView> {
    const action = 'client.policy_change';
    await authorize(this.audit, actor, ['admin'], action, meta);
    return this.refusingAudited(actor, action, { kind: 'client', id: clientId }, meta, async () => {
      await this.policies.update(clientId, policy, { kind: 'staff', id: actor.id }, meta);
      return viewOf((await this.clients.row(clientId))!);
    });
  }

  private async consoleClient(clientId: string): Promise<ClientRow> {
    const row = await this.clients.row(clientId);
    if (!row) throw new AppError('not_found');
    if (row.source !== 'console') throw new AppError('client_file_managed');
    return row;
  }

  /** Our rules on addresses first, then oidc-provider's own validation of the whole. */
  private async check(kind: ClientKind, metadata: Record<string, unknown>, secretDigest: string | null, policy: AccessPolicy): Promise<void> {
    const web = kind !== 'native';
    if (web) for (const uri of strings(metadata.redirect_uris)) this.requireHttps(uri, 'redirect_uris');
    if (web) for (const uri of strings(metadata.post_logout_redirect_uris)) this.requireHttps(uri, 'post_logout_redirect_uris');
    if (typeof metadata.backchannel_logout_uri === 'string') this.requireHttps(metadata.backchannel_logout_uri, 'backchannel_logout_uri');
    if (kind !== 'service' && strings(metadata.redirect_uris).length === 0) throw new AppError('invalid_input', { field: 'redirect_uris' });
    try {
      await this.validate({ ...metadata, ...(secretDigest ? { client_secret: secretDigest } : {}), access_policy: policy });
    } catch (error) {
      const detail = (error as { error_description?: string }).error_description ?? (error as Error).message;
      throw new AppError('client_metadata_invalid', { detail: String(detail).slice(0, 300) }, { cause: error });
    }
  }

  /** Web addresses are https; plain http only on this machine, and never in production. */
  private requireHttps(uri: string, field: string): void {
    const url = URL.parse(uri);
    if (url?.protocol === 'https:') return;
    if (url?.protocol === 'http:' && LOOPBACK.has(url.hostname) && !this.production) return;
    throw new AppError('client_metadata_invalid', { detail: `${field}: ${uri} (https required)` });
  }

  /** Runs `work`; an AppError it throws is audited as a refusal of `action` before it goes on. */
  private async refusingAudited<T>(actor: StaffActor, action: string, target: { kind: string; id: string }, meta: RequestMeta, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError) {
        await this.audit.append({
          actor: { kind: 'staff', id: actor.id }, action, target, result: 'denied',
          details: { reason: error.code, ...(typeof error.details.field === 'string' ? { field: error.details.field } : {}), ...(typeof error.details.detail === 'string' ? { detail: error.details.detail } : {}) }, meta,
        });
      }
      throw error;
    }
  }
}
