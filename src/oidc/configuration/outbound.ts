import type { Configuration } from 'oidc-provider';

/**
 * oidc-provider refuses to connect to loopback and private addresses for the requests it
 * makes itself (back-channel logout, a client's jwks_uri, a request_uri): a guard against
 * SSRF. Departments' systems on the government intranet live at such addresses, so the
 * hosts named in OUTBOUND_PRIVATE_HOSTS (exact host names, compared case-insensitively)
 * are let through; every other host keeps the guard. Empty: the guard applies to all.
 */
export function outboundFetch(privateHosts: string[]): NonNullable<Configuration['fetch']> {
  const allowed = new Set(privateHosts.map((host) => host.toLowerCase()));
  return (url, options) => {
    const host = new URL(url).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (!allowed.has(host)) return fetch(url, options);
    const { dispatcher: _guarded, ...unguarded } = options as RequestInit & { dispatcher?: unknown };
    return fetch(url, unguarded);
  };
}
