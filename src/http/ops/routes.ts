import Router from '@koa/router';
import type { Metrics } from '../metrics.js';

export interface Probe {
  name: string;
  check(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2_000;

function withTimeout(probe: Probe): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), PROBE_TIMEOUT_MS);
    probe.check().then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Liveness, readiness (every store answers) and Prometheus metrics. */
export function opsRoutes(deps: { probes: Probe[]; metrics: Metrics; draining: () => boolean }): Router {
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const results = await Promise.all(deps.probes.map(async (probe) => {
      try {
        await withTimeout(probe);
        return [probe.name, 'ok'] as const;
      } catch {
        return [probe.name, 'unavailable'] as const;
      }
    }));
    const checks = Object.fromEntries(results);
    const ready = !deps.draining() && results.every(([, state]) => state === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : deps.draining() ? 'draining' : 'unavailable', checks };
  });

  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  return router;
}
