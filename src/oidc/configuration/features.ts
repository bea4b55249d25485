import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceServerEntry } from '../resource-servers.js';

export interface FeatureDependencies {
  resourceServers: ResourceServerEntry[];
  /** Renders the RP-initiated logout confirmation page; the form must post `xsrf` back. */
  logoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  logoutDonePage(ctx: KoaContextWithOIDC): Promise<void>;
}

type TokenLike = { clientId?: string; aud?: string | string[] };

function audiences(token: TokenLike): string[] {
  if (!token.aud) return [];
  return Array.isArray(token.aud) ? token.aud : [token.aud];
}

export function features(deps: FeatureDependencies): NonNullable<Configuration['features']> {
  const servers = new Map(deps.resourceServers.map((server) => [server.identifier, server]));

  return {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    clientCredentials: { enabled: true },
    backchannelLogout: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: deps.logoutPage,
      postLogoutSuccessSource: deps.logoutDonePage,
    },
    introspection: {
      enabled: true,
      // A client may look at its own tokens, and an API at tokens issued for it.
      allowedPolicy: async (_ctx, client, token) => {
        if ((token as TokenLike).clientId === client.clientId) return true;
        return audiences(token as TokenLike).some((aud) => servers.get(aud)?.introspection_clients.includes(client.clientId));
      },
    },
    revocation: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => (token as TokenLike).clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const server = servers.get(indicator);
        if (!server) throw new errors.InvalidTarget(`resource indicator "${indicator}" is not a registered API`);
        return {
          scope: server.scope,
          audience: server.identifier,
          accessTokenTTL: server.access_token_ttl,
          accessTokenFormat: server.access_token_format,
          ...(server.access_token_format === 'jwt' ? { jwt: { sign: { alg: 'ES256' } } } : {}),
        };
      },
    },
  };
}
