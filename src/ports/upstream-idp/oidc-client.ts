import * as oidc from 'openid-client';
import { UpstreamUnavailableError } from '../errors.js';
import type { UpstreamIdp } from './config.js';

/** What we keep between sending a person upstream and their return: one use, bound to one login. */
export interface AuthorizationChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** What a validated upstream ID token (and, where it lacks them, userinfo) says about the person. */
export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  acr: string | undefined;
  idNumber: unknown;
  name: unknown;
}

/**
 * Why an authorization response was refused. `denied`: the upstream answered with an
 * error (the person cancelled, or the upstream refused); `invalid`: the response or the
 * ID token failed validation (issuer, audience, signature, nonce, expiry, PKCE, state).
 */
export class UpstreamResponseError extends Error {
  override readonly name = 'UpstreamResponseError';

  constructor(readonly kind: 'denied' | 'invalid', readonly reason: string, options?: { cause?: unknown }) {
    super(`upstream response ${kind}: ${reason}`, options);
  }
}

const TIMEOUT_SECONDS = 10;

/**
 * The relying-party side of federation, with openid-client: discovery (once per upstream,
 * retried after a failure), the authorization URL with state, nonce and PKCE (S256), and
 * the code exchange, in which openid-client validates the ID token's issuer, audience,
 * signature (against the upstream's published keys: openid-client skips that for tokens
 * from the token endpoint unless asked), nonce and expiry.
 */
export class UpstreamOidcClient {
  private readonly configurations = new Map<string, Promise<oidc.Configuration>>();

  constructor(private readonly redirectUri: (upstream: UpstreamIdp) => string) {}

  private configuration(upstream: UpstreamIdp): Promise<oidc.Configuration> {
    let pending = this.configurations.get(upstream.id);
    if (!pending) {
      const auth = upstream.token_endpoint_auth_method === 'client_secret_post'
        ? oidc.ClientSecretPost(upstream.client_secret)
        : oidc.ClientSecretBasic(upstream.client_secret);
      pending = oidc.discovery(new URL(upstream.issuer), upstream.client_id, undefined, auth, {
        timeout: TIMEOUT_SECONDS,
        execute: [
          // ID token signatures are checked against the upstream's published keys, not left to
          // TLS alone: the token is evidence of who vouched for the person, kept in the audit trail.
          oidc.enableNonRepudiationChecks,
          // Plain http only for a non-https issuer, which the configuration refuses in production.
          ...(upstream.issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : []),
        ],
      });
      pending.catch(() => this.configurations.delete(upstream.id));
      this.configurations.set(upstream.id, pending);
    }
    return pending.catch((error: unknown) => {
      throw new UpstreamUnavailableError(`federation.${upstream.id}`, 'unreachable', { detail: 'discovery failed', cause: error });
    });
  }

  async authorizationRequest(upstream: UpstreamIdp, extra: { uiLocales?: string } = {}): Promise<{ url: URL; checks: AuthorizationChecks }> {
    const configuration = await this.configuration(upstream);
    const checks: AuthorizationChecks = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(configuration, {
      response_type: 'code',
      redirect_uri: this.redirectUri(upstream),
      scope: upstream.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      ...(extra.uiLocales ? { ui_locales: extra.uiLocales } : {}),
    });
    return { url, checks };
  }

  /** Redeems the code from `callbackQuery` and returns the validated identity; throws UpstreamResponseError when anything fails validation. */
  async complete(upstream: UpstreamIdp, callbackQuery: string, checks: AuthorizationChecks): Promise<UpstreamIdentity> {
    const configuration = await this.configuration(upstream);
    const current = new URL(this.redirectUri(upstream));
    current.search = callbackQuery;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof oidc.AuthorizationResponseError) throw new UpstreamResponseError('denied', error.error, { cause: error });
      throw new UpstreamResponseError('invalid', reasonOf(error), { cause: error });
    }
    const idToken = tokens.claims();
    if (!idToken) throw new UpstreamResponseError('invalid', 'no_id_token');
    let claims: Record<string, unknown> = idToken;
    const wanted = [upstream.claims.id_number, upstream.claims.name];
    if (wanted.some((claim) => idToken[claim] === undefined) && configuration.serverMetadata().userinfo_endpoint) {
      try {
        // The subject must match the ID token's (OpenID Connect Core §5.3.4); the ID token's own claims win.
        claims = { ...await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub), ...idToken };
      } catch (error) {
        throw new UpstreamResponseError('invalid', `userinfo:${reasonOf(error)}`, { cause: error });
      }
    }
    return {
      issuer: idToken.iss,
      subject: idToken.sub,
      acr: typeof idToken.acr === 'string' ? idToken.acr : undefined,
      idNumber: claims[upstream.claims.id_number],
      name: claims[upstream.claims.name],
    };
  }
}

/** A short, stable reason for the audit log: openid-client's error code, never a token or a claim. */
function reasonOf(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return `token_endpoint:${error.error}`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : (error as Error).name ?? 'unknown';
}
