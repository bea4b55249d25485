import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for one process; /metrics exposes them. */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'civic_http_requests_total',
    help: 'HTTP requests by route and status class',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'civic_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: 'civic_oidc_tokens_issued_total',
    help: 'Tokens issued by the token endpoint, by grant type and token kind',
    labelNames: ['grant_type', 'kind'] as const,
    registers: [this.registry],
  });

  private logoutsWaiting?: () => Promise<number>;

  /** Logins acts have ended and the provider has still to end: above zero for long, a store keeps failing. */
  readonly logoutOutbox = new Gauge({
    name: 'civic_logout_outbox_waiting',
    help: 'Jobs in the logout outbox: logins ended by an act (ban, reset, cancelled grant) not yet ended after a store fault',
    registers: [this.registry],
    collect: async () => {
      if (this.logoutsWaiting) this.logoutOutbox.set(await this.logoutsWaiting().catch(() => Number.NaN));
    },
  });

  /** Where the logout outbox gauge reads its value. */
  watchLogoutOutbox(waiting: () => Promise<number>): void {
    this.logoutsWaiting = waiting;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
