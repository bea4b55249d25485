import type Provider from 'oidc-provider';
import type { Logger } from '../log.js';
import type { KeySet, PrivateJwk, SigningKeyStore } from './signing-keys.js';

/**
 * Holds the live Provider. oidc-provider fixes its keys at construction, so when the
 * signing keys change (a rotation by any instance, or a pending key becoming active) a
 * new Provider is built and swapped in; requests in flight finish on the old one. All
 * provider state lives in the stores, so nothing is lost by the swap.
 */
export class ProviderHost {
  private provider: Provider;
  private fingerprint: string;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly build: (keys: PrivateJwk[]) => Provider, private readonly keys: SigningKeyStore, initial: KeySet, private readonly logger: Logger) {
    this.provider = build(initial.keys);
    this.fingerprint = initial.fingerprint;
  }

  static async start(build: (keys: PrivateJwk[]) => Provider, keys: SigningKeyStore, logger: Logger): Promise<ProviderHost> {
    await keys.ensure();
    return new ProviderHost(build, keys, await keys.load(), logger);
  }

  get current(): Provider {
    return this.provider;
  }

  /** Rebuilds the provider if the key set changed; true when it did. */
  async refresh(): Promise<boolean> {
    const next = await this.keys.load();
    if (next.fingerprint === this.fingerprint) return false;
    this.provider = this.build(next.keys);
    this.fingerprint = next.fingerprint;
    this.logger.info({ keys: next.fingerprint }, 'signing keys changed; provider reloaded');
    return true;
  }

  watch(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.logger.warn({ err: error }, 'could not check signing keys'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
