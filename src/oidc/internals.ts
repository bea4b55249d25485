import type { Provider } from 'oidc-provider';
import type { ClientRegistry } from './clients.js';

/**
 * The one place that changes oidc-provider behaviour beyond its configuration.
 *
 * Client secrets are stored as keyed digests (fast to check, useless if the table leaks).
 * The provider is handed the digest in place of the secret, so comparing must digest
 * what the client presented. Nothing else uses a client's secret: symmetric algorithms
 * and client_secret_jwt are disabled (configuration/jwa.ts).
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
