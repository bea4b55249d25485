import Provider, { type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.js';
import type { Metrics } from '../http/metrics.js';
import { accessPolicySchema } from './access-policy.js';
import type { ClientRegistry } from './clients.js';
import { claims, scopes, ACR_VALUES } from './configuration/claims.js';
import { cookies } from './configuration/cookies.js';
import { loadExistingGrant } from './configuration/grants.js';
import { features, type FeatureDependencies } from './configuration/features.js';
import { interactions } from './configuration/interactions.js';
import { clientAuthMethods, enabledJWA } from './configuration/jwa.js';
import { pkce } from './configuration/pkce.js';
import { ttl } from './configuration/ttl.js';
import { compareSecretsByDigest } from './internals.js';
import type { PrivateJwk } from './signing-keys.js';

export interface ProviderOptions extends FeatureDependencies {
  issuer: string;
  trustProxy: boolean;
  cookieKeys: string[];
  jwks: PrivateJwk[];
  adapter: NonNullable<Configuration['adapter']>;
  clients: ClientRegistry;
  findAccount: FindAccount;
  renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void>;
  logger: Logger;
  metrics: Metrics;
}

export function createProvider(options: ProviderOptions): Provider {
  const configuration: Configuration = {
    adapter: options.adapter,
    findAccount: options.findAccount,
    jwks: { keys: options.jwks as unknown as NonNullable<Configuration['jwks']>['keys'] },
    cookies: cookies(options.cookieKeys, options.issuer.startsWith('https://')),
    claims,
    scopes,
    acrValues: [...ACR_VALUES],
    features: features(options),
    interactions,
    pkce,
    ttl,
    enabledJWA,
    clientAuthMethods: [...clientAuthMethods],
    // Authorization code only: no implicit or hybrid response types.
    responseTypes: ['code'],
    subjectTypes: ['public'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    extraClientMetadata: {
      properties: ['access_policy'],
      validator: (_ctx, key, value, metadata) => {
        if (key !== 'access_policy') return;
        const parsed = accessPolicySchema.safeParse(value ?? {});
        if (!parsed.success) throw new Error(`access_policy: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
        metadata.access_policy = parsed.data;
      },
    },
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && (code.scopes.has('offline_access') || client.clientAuthMethod === 'none'),
    // Public clients rotate on every use; reuse of a rotated token revokes the whole grant.
    rotateRefreshToken: (ctx) => ctx.oidc.client?.clientAuthMethod === 'none'
      || (ctx.oidc.entities.RefreshToken?.ttlPercentagePassed() ?? 0) >= 70,
    loadExistingGrant,
    conformIdTokenClaims: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    renderError: options.renderError,
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  compareSecretsByDigest(provider, options.clients);

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
    (ctx.state?.log ?? options.logger).error({ err: error }, 'oidc-provider server error');
  });
  return provider;
}
