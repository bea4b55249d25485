import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
