/**
 * The protocol ceiling: oidc-provider alone, in this same Node, with its in-memory
 * adapter, static clients and no application code. What it answers per second is the
 * most our stack could answer for the same grant; the bench divides by it.
 *
 * Configured like civic-idp where it matters to the cost of a grant: ES256 JWT access
 * tokens for the resource server on client_credentials, and refresh-token rotation for a
 * public client with an ES256 ID token on every refresh.
 *
 * Run by bench/run.ts with PORT set; GET /bench/mint?n=N answers N fresh refresh tokens.
 */
import { generateKeyPairSync } from 'node:crypto';
import { BARE } from './bare-clients.js';

// oidc-provider prints development notices; the bench's output is its table.
console.warn = () => {};
console.info = () => {};
console.log = () => {};

const { default: Provider } = await import('oidc-provider');


const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: BARE.service.client_id,
      client_secret: BARE.service.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: BARE.app.client_id,
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [BARE.app.redirect_uri],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...key, kid: 'bench-es256', alg: 'ES256', use: 'sig' } as never] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'services.read services.write',
        audience: BARE.resource,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  rotateRefreshToken: true,
  conformIdTokenClaims: true,
  ttl: {
    AccessToken: 900,
    ClientCredentials: 600,
    IdToken: 3600,
    Grant: 30 * 86_400,
    RefreshToken: 30 * 86_400,
    Session: 12 * 3600,
    Interaction: 3600,
    AuthorizationCode: 60,
  },
});

/** Refresh tokens as a code exchange would have issued them: a grant with openid, a token bound to it. */
async function mint(count: number): Promise<string[]> {
  const client = await provider.Client.find(BARE.app.client_id);
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const accountId = `bench-account-${i}`;
    const grant = new provider.Grant({ accountId, clientId: BARE.app.client_id });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      client, accountId, grantId, scope: 'openid', gty: 'authorization_code', authTime: now, iiat: now, rotations: 0,
    } as never);
    tokens.push(await token.save());
  }
  return tokens;
}

provider.use(async (ctx, next) => {
  if (ctx.path !== '/bench/mint') return next();
  ctx.body = await mint(Math.min(1000, Number(ctx.query.n ?? 1)));
});

provider.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
