import { randomBytes } from 'node:crypto';
import type { Provider } from 'oidc-provider';
import type { ClientRegistry } from './clients.js';

/**
 * The one place that changes oidc-provider behaviour beyond its configuration.
 *
 * Client secrets are stored as keyed digests (fast to check, useless if the table leaks).
 * The provider is handed the digest in place of the secret, so comparing must digest
 * what the client presented. Nothing else uses a client's secret: symmetric algorithms
 * and client_secret_jwt are disabled (configuration/jwa.ts). A rotated secret reaches
 * every instance at once through the registry's change broadcast (oidc/clients.ts).
 */
export function compareSecretsByDigest(provider: Provider, clients: ClientRegistry): void {
  const prototype = provider.Client.prototype as unknown as {
    clientSecret?: string;
    compareClientSecret(actual: string): Promise<boolean> | boolean;
  };
  prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return typeof this.clientSecret === 'string' && clients.secretMatches(actual, this.clientSecret);
  };
}

/**
 * A client with a configured `subject_sector` (oidc/pairwise.ts) has pairwise subjects,
 * whatever its `subject_type` says: oidc-provider would otherwise demand a
 * `sector_identifier_uri` for clients whose redirect URIs span several hosts, and fetch it.
 * Everything in the provider that shows a `sub` (ID token, userinfo, introspection,
 * logout tokens, id_token_hint) asks `client.subjectType`.
 */
export function pairwiseBySector(provider: Provider, sectorProperty: string): void {
  const declared = Symbol('declared subject_type');
  Object.defineProperty(provider.Client.prototype, 'subjectType', {
    configurable: true,
    get(this: Record<string | symbol, unknown>) {
      return typeof this[sectorProperty] === 'string' ? 'pairwise' : this[declared];
    },
    set(this: Record<string | symbol, unknown>, value: unknown) {
      this[declared] = value;
    },
  });
}

/**
 * A session never silently loses strength: when the same account signs in again in the
 * same session (a step-up, or prompt=login), the session keeps the higher acr and every
 * method proven so far, so a weaker later login cannot lower what other clients rely on.
 * (A different account replaces the session altogether; oidc-provider ends it first.)
 */
export function keepStrongestAuthentication(provider: Provider, stronger: (a: string | undefined, b: string | undefined) => string | undefined): void {
  type Login = { accountId: string; acr?: string; amr?: string[]; [key: string]: unknown };
  const prototype = provider.Session.prototype as unknown as { accountId?: string; acr?: string; amr?: string[]; loginAccount(details: Login): void };
  const loginAccount = prototype.loginAccount;
  prototype.loginAccount = function strongest(this: typeof prototype, details: Login) {
    if (this.accountId && this.accountId === details.accountId) {
      details = {
        ...details,
        acr: stronger(this.acr, details.acr),
        amr: [...new Set([...(this.amr ?? []), ...(details.amr ?? [])])],
      };
    }
    loginAccount.call(this, details);
  };
}

/**
 * `sid` in the ID token of every client, not only those registered for back-channel logout
 * with sessions required: a relying party keys its session by it, and RP-initiated logout
 * recognises a hint from this browser's session by it (and then confirms by itself).
 */
export function sidForEveryClient(provider: Provider): void {
  newSidAtEveryLogin(provider);
  const prototype = provider.Client.prototype as unknown as { includeSid(): boolean };
  prototype.includeSid = function includeSid() {
    return true;
  };
}

/**
 * A login gives the client it was made for a new `sid`, even when the person signs in again
 * in the same browser session (prompt=login, max_age, a step-up): relying parties key their
 * sessions by it, and an old one must not be mistaken for the new. The other clients of the
 * session keep theirs, so that a later logout still names the sessions they know.
 */
function newSidAtEveryLogin(provider: Provider): void {
  const justLoggedIn = Symbol('logged in during this request');
  type SessionLike = { [justLoggedIn]?: boolean; sidFor(clientId: string, value?: string): string | undefined; loginAccount(details: unknown): void; ensureClientContainer(clientId: string): void };
  const prototype = provider.Session.prototype as unknown as SessionLike;
  const loginAccount = prototype.loginAccount;
  prototype.loginAccount = function loginAccountMarked(this: SessionLike, details: unknown) {
    loginAccount.call(this, details);
    this[justLoggedIn] = true;
  };
  const ensureClientContainer = prototype.ensureClientContainer;
  prototype.ensureClientContainer = function ensureFreshSid(this: SessionLike, clientId: string) {
    if (this[justLoggedIn]) this.sidFor(clientId, randomBytes(16).toString('base64url'));
    else ensureClientContainer.call(this, clientId);
  };
}
