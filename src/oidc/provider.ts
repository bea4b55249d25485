import type { AuditLog } from '../audit/audit-log.js';
import Provider, { type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.js';
import type { Metrics } from '../http/metrics.js';
import { accessPolicySchema } from './access-policy.js';
import type { BackchannelLogout } from './backchannel-logout.js';
import type { ActingAuthority } from '../delegation/acting-authority.js';
import { actingEntityType, applyActingIdentity } from './acting-identity.js';
import type { ClientRegistry } from './clients.js';
import { claims, scopes, ACR_VALUES } from './configuration/claims.js';
import { cookies } from './configuration/cookies.js';
import { loadExistingGrant } from './configuration/grants.js';
import { features, type FeatureDependencies } from './configuration/features.js';
import { interactions } from './configuration/interactions.js';
import { clientAuthMethods, enabledJWA } from './configuration/jwa.js';
import { pkce } from './configuration/pkce.js';
import { ttl } from './configuration/ttl.js';
import { compareSecretsByDigest, keepStrongestAuthentication, pairwiseBySector, sidForEveryClient } from './internals.js';
import { interactionPolicyFor } from './configuration/policy.js';
import { pairwiseIdentifier, SUBJECT_SECTOR, validateSubjectSector } from './pairwise.js';
import { strongerAcr, type ClientAccess } from './policy-check.js';
import type { KeyedDigest } from '../crypto/digest.js';
import { sessionTtl, type SessionLifetimes } from './configuration/session.js';
import { outboundFetch } from './configuration/outbound.js';
import type { PrivateJwk } from './signing-keys.js';
import { revokeGrantsAtLogout } from './logout-revocation.js';
import { refuseStaleLogins } from './resume-guard.js';
import { auditRefreshReuse } from './refresh-reuse-audit.js';
import { honourRefreshRetries, retryingRotation } from './refresh-rotation.js';
import { registerWechatGrant } from './wechat-grant.js';
import type { WechatLogin } from '../wechat/wechat-login.js';
import { storeFault, type StoreUnavailableError } from '../store/faults.js';
import { translate } from '../i18n/messages.js';

export interface ProviderOptions extends FeatureDependencies {
  issuer: string;
  trustProxy: boolean;
  trustProxyHops: number;
  cookieKeys: string[];
  jwks: PrivateJwk[];
  adapter: NonNullable<Configuration['adapter']>;
  clients: ClientRegistry;
  findAccount: FindAccount;
  /** The account's credential stamp now, undefined when it may not sign in (oidc/resume-guard.ts). */
  currentCredentialStamp(accountId: string): Promise<string | undefined>;
  renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void>;
  logger: Logger;
  audit: AuditLog;
  /** Revokes grants and everything issued under them (oidc/account-sessions.ts). */
  revokeGrants: (grantIds: string[]) => Promise<void>;
  metrics: Metrics;
  /** Each client's access policy, enforced at every authorization (configuration/policy.ts). */
  clientAccess: ClientAccess;
  /** Keys pairwise subjects (oidc/pairwise.ts). */
  digest: KeyedDigest;
  /** SSO session lifetimes (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS). */
  session?: SessionLifetimes;
  /** Retries and logs the back-channel logout deliveries of RP-initiated logout. */
  backchannelLogout?: BackchannelLogout;
  /** Loopback or private hosts the provider may call despite its SSRF guard (OUTBOUND_PRIVATE_HOSTS). */
  outboundPrivateHosts?: string[];
  /** Acting for enterprises: the identity choice and the legal-person claims (oidc/acting-identity.ts). */
  acting?: ActingAuthority;
  /** The mini-program's WeChat login grant; undefined when WECHAT=off. */
  wechatLogin?: WechatLogin;
}

/**
 * oidc-provider answers any error it did not throw itself as a 500 server_error, already
 * written when this runs (the event is emitted after the answer is set). A store outage is
 * a 503 instead: the page was rendered by renderError, which sees the fault too; a JSON
 * answer (token, userinfo, introspection) becomes temporarily_unavailable, the code
 * OAuth 2.0 has for it. Retry-After is added by the error middleware around the provider.
 */
function answerStoreOutage(ctx: KoaContextWithOIDC, fault: StoreUnavailableError, log: Logger): void {
  log.warn({ store: fault.store, err: fault }, 'store unavailable');
  ctx.status = 503;
  if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
    // error_description is ASCII only (RFC 6749 §5.2): the English message.
    ctx.body = { error: 'temporarily_unavailable', error_description: translate('en', 'errors.store_unavailable') };
  }
}

export function createProvider(options: ProviderOptions): Provider {
  const configuration: Configuration = {
    adapter: options.adapter,
    findAccount: options.findAccount,
    jwks: { keys: options.jwks as unknown as NonNullable<Configuration['jwks']>['keys'] },
    cookies: cookies(options.cookieKeys, options.issuer.startsWith('https://')),
    // POST at the authorization and end-session endpoints needs the SameSite=None session cookie: https only.
    enableHttpPostMethods: options.issuer.startsWith('https://'),
    claims,
    scopes,
    acrValues: [...ACR_VALUES],
    features: features(options),
    interactions: { ...interactions, policy: interactionPolicyFor(options.clientAccess, options.acting && actingEntityType(options.acting)) },
    pkce,
    ttl: options.session ? { ...ttl, Session: sessionTtl(options.session) } : ttl,
    fetch: outboundFetch(options.outboundPrivateHosts ?? []),
    enabledJWA,
    clientAuthMethods: [...clientAuthMethods],
    // Authorization code only: no implicit or hybrid response types.
    responseTypes: ['code'],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: pairwiseIdentifier(options.digest),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    extraClientMetadata: {
      properties: ['access_policy', SUBJECT_SECTOR],
      validator: (_ctx, key, value, metadata) => {
        validateSubjectSector(key, value);
        if (key !== 'access_policy') return;
        const parsed = accessPolicySchema.safeParse(value ?? {});
        if (!parsed.success) throw new Error(`access_policy: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
        metadata.access_policy = parsed.data;
      },
    },
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && (code.scopes.has('offline_access') || client.clientAuthMethod === 'none'),
    // Public clients rotate on every use; reuse of a rotated token revokes the whole grant,
    // except a retry within the reuse interval, which rotates again to reach the same successor.
    rotateRefreshToken: (ctx) => retryingRotation() || ctx.oidc.client?.clientAuthMethod === 'none'
      || (ctx.oidc.entities.RefreshToken?.ttlPercentagePassed() ?? 0) >= 70,
    loadExistingGrant,
    conformIdTokenClaims: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    renderError: options.renderError,
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
  };

  if (options.acting) applyActingIdentity(configuration, options.acting);
  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  provider.maxIpsCount = options.trustProxyHops;
  compareSecretsByDigest(provider, options.clients);
  pairwiseBySector(provider, SUBJECT_SECTOR);
  keepStrongestAuthentication(provider, strongerAcr);
  sidForEveryClient(provider);
  options.backchannelLogout?.attach(provider);
  registerWechatGrant(provider, { login: options.wechatLogin, findAccount: options.findAccount });
  auditRefreshReuse(provider, options.audit, options.logger);
  honourRefreshRetries(provider, { audit: options.audit, logger: options.logger });
  revokeGrantsAtLogout(provider, { revokeGrants: options.revokeGrants, audit: options.audit, logger: options.logger });
  refuseStaleLogins(provider, { currentStamp: options.currentCredentialStamp, audit: options.audit });

  provider.on('grant.success', (ctx) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? 'unknown');
    options.metrics.tokensIssued.inc({ grant_type: grantType, kind: 'access_token' });
    if (ctx.body && typeof ctx.body === 'object' && 'refresh_token' in ctx.body) {
      options.metrics.tokensIssued.inc({ grant_type: grantType, kind: 'refresh_token' });
    }
    if (ctx.body && typeof ctx.body === 'object' && 'id_token' in ctx.body) {
      options.metrics.tokensIssued.inc({ grant_type: grantType, kind: 'id_token' });
    }
  });
  provider.on('server_error', (ctx, error) => {
    const log: Logger = ctx.state?.log ?? options.logger;
    const fault = storeFault(error);
    if (fault) answerStoreOutage(ctx, fault, log);
    else log.error({ err: error }, 'oidc-provider server error');
  });
  return provider;
}
