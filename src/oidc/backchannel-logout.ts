import type Provider from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../log.js';

/** An error and its causes in one line ("fetch failed: connect ECONNREFUSED ..."). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 3; current = (current as { cause?: unknown }).cause, depth += 1) {
    parts.push(current instanceof Error ? current.message : String(current));
  }
  return parts.join(': ');
}

/**
 * One relying party to tell that one of its sessions (by `sid`) of one account has ended;
 * without `sid`, that the person is signed out of it altogether (section 2.4).
 */
export interface LogoutNotice {
  clientId: string;
  accountId: string;
  sid?: string;
}

/** What a stored oidc-provider session says about the clients signed in through it. */
export type SessionAuthorizations = Record<string, { sid?: string } | undefined>;

export interface BackchannelLogoutOptions {
  /** The live provider: logout tokens are built and signed by its own Client model and keys. */
  provider(): Provider;
  logger: Logger;
  audit: AuditLog;
  /** Further attempts after a failed delivery ... */
  retries: number;
  /** ... the first after this long, each next one after twice as long. */
  retryDelayMs: number;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 for every way a session ends. oidc-provider sends
 * the logout tokens of an RP-initiated logout itself (signed with its keys, `typ`
 * logout+jwt, `sid` when the client asks for it, no nonce) and waits for one attempt each,
 * bounded by its HTTP timeout; what fails there is retried here in the background. Sessions
 * ended outside the provider (sign out one or all in the account centre, password reset,
 * ban, deregistration) go through `sessionsEnded`, which uses the same Client model.
 * A delivery is retried `retries` times with back-off; every failed attempt is logged,
 * and giving up is audited. Retries live in this process: a restart forgets them.
 */
export class BackchannelLogout {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: BackchannelLogoutOptions) {}

  /** Retries what a provider's own end_session failed to deliver. Called for every provider built. */
  attach(provider: Provider): void {
    provider.on('backchannel.error', (_ctx, error, client, accountId, sid) => {
      this.failed({ clientId: client.clientId, accountId, sid }, 1, error);
    });
  }

  /**
   * Tells every client signed in through the given (already ended) sessions, and every one
   * of `grantHolders` (clients whose grants were revoked) that no such session names;
   * resolves after the first attempts. A grant holder gets a token with `sub` and no `sid`
   * (OpenID Connect Back-Channel Logout 1.0, section 2.4), which a client that requires
   * `sid` could not act on: it is not sent one.
   */
  async sessionsEnded(accountId: string, sessions: Array<{ authorizations?: SessionAuthorizations }>, grantHolders: string[] = []): Promise<void> {
    const notices: LogoutNotice[] = sessions.flatMap((session) => Object.entries(session.authorizations ?? {})
      .map(([clientId, authorization]) => ({ clientId, accountId, ...(authorization?.sid ? { sid: authorization.sid } : {}) })));
    const told = new Set(notices.map((notice) => notice.clientId));
    notices.push(...[...new Set(grantHolders)].filter((clientId) => !told.has(clientId)).map((clientId) => ({ clientId, accountId })));
    await Promise.all(notices.map((notice) => this.attempt(notice, 1)));
  }

  /** Resolves once no delivery is under way or waiting for a retry. */
  async settled(): Promise<void> {
    while (this.timers.size > 0 || this.inFlight.size > 0) {
      await Promise.race([...this.inFlight, new Promise((resolve) => setTimeout(resolve, 20))]);
    }
  }

  /** Drops pending retries (at shutdown). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private attempt(notice: LogoutNotice, attempt: number): Promise<void> {
    const delivery = this.deliver(notice).then(
      (sent) => {
        if (sent && attempt > 1) this.options.logger.info({ client_id: notice.clientId, attempt }, 'back-channel logout delivered on retry');
      },
      (error: unknown) => this.failed(notice, attempt, error),
    );
    this.inFlight.add(delivery);
    return delivery.finally(() => this.inFlight.delete(delivery));
  }

  /** False when there is nothing to send: the client is gone, has no back-channel endpoint, or needs a `sid` there is not. */
  private async deliver(notice: LogoutNotice): Promise<boolean> {
    const client = await this.options.provider().Client.find(notice.clientId);
    if (!client?.backchannelLogoutUri) return false;
    if (!notice.sid && client.backchannelLogoutSessionRequired) return false;
    // The Client model's own sender (not in its typings): signs with the provider's keys, POSTs, expects 200 or 204.
    const send = client.backchannelLogout as (sub: string, sid?: string) => Promise<void>;
    await send.call(client, notice.accountId, notice.sid);
    return true;
  }

  private failed(notice: LogoutNotice, attempt: number, error: unknown): void {
    const reason = describe(error);
    const { logger, retries, retryDelayMs } = this.options;
    logger.warn({ client_id: notice.clientId, account_id: notice.accountId, attempt, reason }, 'back-channel logout delivery failed');
    if (attempt <= retries) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.attempt(notice, attempt + 1);
      }, retryDelayMs * 2 ** (attempt - 1));
      timer.unref();
      this.timers.add(timer);
      return;
    }
    const audited = this.options.audit.append({
      actor: { kind: 'system' },
      action: 'backchannel_logout.failed',
      target: { kind: 'account', id: notice.accountId },
      result: 'failure',
      details: { client_id: notice.clientId, attempts: attempt, reason },
    }).then(() => undefined, (auditError: unknown) => logger.error({ err: auditError }, 'could not audit a failed back-channel logout'));
    this.inFlight.add(audited);
    void audited.finally(() => this.inFlight.delete(audited));
  }
}
