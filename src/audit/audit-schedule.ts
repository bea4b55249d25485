import type { Logger } from '../log.js';
import type { Cache } from '../store/cache.js';
import type { AuditRetention } from './audit-retention.js';

const CHECK_EVERY_MS = 60 * 60 * 1000;

/**
 * Runs the audit log's daily job (verify the chain and log its head hash, then purge past
 * retention) once per calendar day (UTC) across every worker and instance: the first to
 * take the day's key in the shared cache does it. Returns a function that stops it.
 */
export function startAuditSchedule(retention: AuditRetention, cache: Cache, logger: Logger, options: { firstRunMs?: number } = {}): () => void {
  const tick = async () => {
    const day = new Date().toISOString().slice(0, 10);
    if (!await cache.setIfAbsent(`audit-daily:${day}`, '1', 26 * 3600)) return;
    const { verified, purged } = await retention.daily();
    if (verified.ok) logger.info({ records: verified.count, head: verified.head, purged }, 'audit log verified');
    else logger.error({ records: verified.count, brokenAt: verified.brokenAt, reason: verified.reason }, 'audit log chain broken');
  };
  const run = () => { tick().catch((error: unknown) => logger.warn({ err: error }, 'audit daily job failed')); };
  const first = setTimeout(run, options.firstRunMs ?? 10_000);
  const timer = setInterval(run, CHECK_EVERY_MS);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
