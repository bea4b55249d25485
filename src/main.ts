import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { buildApp, type AppState } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { buildDependencies } from './deps.js';
import { createLogger, type Logger } from './log.js';
import { purgeExpiredArtifacts } from './oidc/adapters/durable-artifacts.js';
import { startAuditSchedule } from './audit/audit-schedule.js';

const HOUSEKEEPING_INTERVAL_MS = 60 * 60 * 1000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function serve(config: Config, logger: Logger): Promise<void> {
  const deps = await buildDependencies(config, logger);
  const state: AppState = { draining: false };
  const app = await buildApp(deps, state);
  deps.providers.watch(config.keyRotationCheckSeconds * 1000);

  const housekeeping = setInterval(() => {
    purgeExpiredArtifacts(deps.database.db)
      .then((purged) => deps.signingKeys.purgeRetired().then((keys) => logger.info({ purged, keys }, 'housekeeping done')))
      .catch((error: unknown) => logger.warn({ err: error }, 'housekeeping failed'));
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();
  const stopAuditSchedule = startAuditSchedule(deps.auditRetention, deps.cache, logger);

  const listen = (port: number): Promise<Server> => new Promise((resolve) => {
    const listening = app.listen(port, () => resolve(listening));
  });
  // The public port, and with ADMIN_PORT the staff listener (the console, its API, /metrics: see staff-surface.ts).
  const servers = [await listen(config.port), ...(config.adminPort !== undefined ? [await listen(config.adminPort)] : [])];
  for (const server of servers) server.keepAliveTimeout = 65_000;
  const address = servers[0]!.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ issuer: config.issuer, port, adminPort: config.adminPort, database: config.database.kind, cache: config.cache.kind }, 'civic-idp listening');
  if (cluster.isPrimary) {
    process.stdout.write(`civic-idp is running: ${config.issuer}/.well-known/openid-configuration (database: ${config.database.kind}, cache: ${config.cache.kind})\n`);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // From here every answer says Connection: close (app.ts), so each connection ends with
    // the request in flight on it, and the process exits as soon as the last one has.
    state.draining = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const force = setTimeout(() => {
      logger.warn('shutdown timed out; closing remaining connections');
      for (const server of servers) server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    // Idle keep-alive connections are closed now, and any that falls idle later without
    // having been told to close (an answer written outside the app) as soon as it does.
    const sweep = setInterval(() => { for (const server of servers) server.closeIdleConnections(); }, 250);
    sweep.unref();
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    void Promise.all(closed).then(() => {
      clearInterval(sweep);
      clearInterval(housekeeping);
      stopAuditSchedule();
      deps.close().then(() => {
        logger.info('stopped');
        process.exit(0);
      }, () => process.exit(1));
    });
    for (const server of servers) server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** WORKERS > 1: the primary forks that many processes, which share the listening port. */
function supervise(config: Config, logger: Logger): void {
  let stopping = false;
  for (let i = 0; i < config.workers; i += 1) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ worker: worker.process.pid, code }, 'worker exited; starting another');
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`civic-idp is starting ${config.workers} workers: ${config.issuer}/.well-known/openid-configuration\n`);
}

const config = readConfig();
const logger = createLogger(config.logLevel);
if (config.workers > 1 && cluster.isPrimary) {
  supervise(config, logger);
} else {
  serve(config, logger).catch((error: unknown) => {
    logger.fatal({ err: error }, 'could not start');
    process.stderr.write(`civic-idp could not start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
