import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../../bench/driver/http.js';
import { seedAccounts } from '../../bench/lib/seed.js';
import { ChildServer, freePort, ROOT } from '../../bench/lib/server.js';
import { generateSecrets } from '../../bench/lib/stores.js';
import { openDatabase } from '../../src/store/db.js';
import { eventually, redisCommand, startPrivatePostgresPair, startPrivateRedisCluster, type PrivatePostgresPair, type PrivateRedisCluster } from '../helpers/private-stores.js';
import { Balancer } from './balancer.js';
import { Load, refresh, type Operation, type OperationKind } from './load.js';
import { checkNothingLost, type LossReport } from './verify.js';

/**
 * `npm run test:topology`: civic-idp as it runs in production, on one machine. Three
 * instances (src/main.ts, each its own process) behind a load balancer, on PostgreSQL with
 * a synchronous streaming standby and on a three-master Redis Cluster, all private to this
 * run on free ports. Under steady login, refresh and userinfo traffic it kills an
 * instance, restarts a Redis master, and crashes the PostgreSQL primary and promotes the
 * standby. It reports the errors of each phase and how long each fault took to recover
 * from, and fails unless nothing that clients were given is lost and no operation outside
 * the fault windows failed. Everything it starts is stopped, whatever happens.
 */

const INSTANCES = 3;
const ACCOUNTS = 2_000;
/** How long after a fault is repaired failures are still the fault's: the clients' reconnect and retry delays. */
const SETTLE_MS = 8_000;
const STEADY_MS = 6_000;
const RUN_LIMIT_MS = 10 * 60_000;
const SCHEMA = 'topology';

const started = performance.now();
const now = () => Math.round(performance.now() - started);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (message: string) => process.stdout.write(`[${seconds(now()).padStart(7)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Phase {
  name: string;
  start: number;
  end: number;
  /** Faults only: when it began, when it was repaired; failures in [start, repaired + SETTLE_MS] are its own. */
  fault?: { injected: number; repaired: number };
}

const teardown: Array<() => Promise<unknown>> = [];
let tornDown = false;
async function tearDown(): Promise<void> {
  if (tornDown) return;
  tornDown = true;
  for (const step of teardown.reverse()) await step().catch((error: unknown) => log(`teardown: ${(error as Error).message}`));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    void tearDown().finally(() => process.exit(130));
  });
}
const limit = setTimeout(() => {
  log(`not done within ${RUN_LIMIT_MS / 60_000} minutes: stopping everything`);
  void tearDown().finally(() => process.exit(2));
}, RUN_LIMIT_MS);
limit.unref();

async function main(): Promise<boolean> {
  const scratch = mkdtempSync(join(tmpdir(), 'civic-idp-topology-'));
  teardown.push(async () => rmSync(scratch, { recursive: true, force: true }));

  log('stores: PostgreSQL primary with a synchronous standby, three-master Redis Cluster (append-only files)');
  const [pairResult, clusterResult] = await Promise.allSettled([
    startPrivatePostgresPair({ synchronous: true }),
    startPrivateRedisCluster({ persistent: true, nodeTimeoutMs: 5_000 }),
  ]);
  if (pairResult.status === 'fulfilled') teardown.push(() => pairResult.value.destroy());
  if (clusterResult.status === 'fulfilled') teardown.push(() => clusterResult.value.destroy());
  if (pairResult.status === 'rejected') throw pairResult.reason;
  if (clusterResult.status === 'rejected') throw clusterResult.reason;
  const pair: PrivatePostgresPair = pairResult.value;
  const cluster: PrivateRedisCluster = clusterResult.value;
  log(`  DATABASE_URL=${pair.url} (standby first: only the primary is used)`);
  log(`  REDIS_URL=${cluster.url}`);

  const secrets = generateSecrets();
  const database = { kind: 'postgres' as const, url: pair.url, schema: SCHEMA, poolSize: 4 };
  const seeded = await seedAccounts(database, secrets, ACCOUNTS);
  log(`seeded ${seeded.accounts} accounts`);

  const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
  const balancer = await Balancer.start(ports);
  teardown.push(() => balancer.close());
  const issuer = `http://127.0.0.1:${balancer.port}`;
  const environment = (port: number): Record<string, string> => ({
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: issuer,
    LOG_LEVEL: 'warn',
    DATABASE_URL: pair.url,
    DATABASE_SCHEMA: SCHEMA,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: cluster.url,
    REDIS_PREFIX: 'topology:',
    CLIENTS_FILE: join(ROOT, 'bench/config/clients.json'),
    KEYS_DIR: join(scratch, 'keys'),
    SMS_OUTBOX: join(scratch, 'sms-outbox.jsonl'),
    LOGIN_IP_LIMIT_PER_HOUR: '1000000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...secrets,
  });
  const instances: ChildServer[] = [];
  const startInstance = async (index: number) => {
    instances[index] = await ChildServer.start({
      script: 'src/main.ts', env: environment(ports[index]!), readyUrl: `http://127.0.0.1:${ports[index]}/readyz`, name: `instance ${index + 1}`, timeoutMs: 90_000,
    });
  };
  teardown.push(() => Promise.all(instances.map((instance) => instance?.stop(5_000))));
  // The first creates the signing keys; the others find them.
  await startInstance(0);
  await Promise.all(Array.from({ length: INSTANCES - 1 }, (_, i) => startInstance(i + 1)));
  log(`${INSTANCES} instances on ports ${ports.join(', ')} behind the balancer at ${issuer}`);

  const http = new HttpClient(issuer, 32);
  teardown.push(async () => http.close());
  const load = new Load(http, now, { accounts: ACCOUNTS, sessions: 6, pauseMs: 100, loginPauseMs: 300 });
  await load.prepare();
  load.start();
  let loadRunning = true;
  teardown.push(async () => {
    if (loadRunning) await load.stop();
  });

  const phases: Phase[] = [];
  const steady = async (name: string) => {
    const start = now();
    log(`${name}: steady load for ${seconds(STEADY_MS)}`);
    await sleep(STEADY_MS);
    phases.push({ name, start, end: now() });
  };
  const fault = async (name: string, inject: () => Promise<void>, outageMs: number, repair: () => Promise<void>) => {
    const start = now();
    log(`${name}: injecting`);
    await inject();
    const injected = now();
    await sleep(outageMs);
    log(`${name}: repairing`);
    await repair();
    const repaired = now();
    log(`${name}: repaired ${seconds(repaired - start)} after it began; load goes on`);
    await sleep(SETTLE_MS);
    phases.push({ name, start, end: now(), fault: { injected, repaired } });
  };

  await steady('steady before faults');
  const victim = 1;
  await fault('instance killed (SIGKILL), then started again', () => instances[victim]!.kill(), 2_000, () => startInstance(victim));
  await steady('steady after the instance');
  const master = cluster.nodes[1]!;
  await fault('Redis master restarted', () => master.stop(), 2_000, async () => {
    await master.start();
    await eventually(async () => {
      const states = await Promise.all(cluster.ports.map((port) => redisCommand(port, ['CLUSTER', 'INFO'])));
      return states.every((state) => /cluster_state:ok/.test(state)) ? true : undefined;
    });
  });
  await steady('steady after Redis');
  await fault('PostgreSQL primary crashed, standby promoted', () => pair.primary.crash(), 2_000, () => pair.standby.promote());
  await steady('steady after PostgreSQL');

  log('stopping the load');
  await load.stop();
  loadRunning = false;
  const exited = instances.filter((instance) => !instance.running);
  for (const instance of exited) log(`${instance.name} exited on its own:\n${instance.tail(30)}`);

  // Every app's login survived every fault: the token each holds now still refreshes.
  const finalRefreshes = await Promise.all(load.heldRefreshTokens().map((token) => refresh(http, token).then(() => 'ok', (error: Error) => error.message)));
  const handle = await openDatabase(database);
  let loss: LossReport;
  try {
    loss = await checkNothingLost(handle, { refreshTokens: load.refreshTokens, loginTokens: load.loginTokens, seededAccounts: ACCOUNTS });
  } finally {
    await handle.close();
  }
  const passed = report(phases, load.operations, loss, finalRefreshes) && exited.length === 0;
  // What the instances logged (warnings and errors) says why.
  if (!passed) for (const instance of instances) log(`${instance.name}, last lines:\n${instance.tail(40)}`);
  return passed;
}

function median(values: number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  return String(sorted[Math.floor(sorted.length / 2)]);
}

/**
 * What a fault may look like to a client: a 503 with Retry-After (JSON or the error page),
 * the balancer's 502/504, or a connection refused, reset or cut by the instance killed.
 */
function outageLike(failure: string): boolean {
  if (/without Retry-After/.test(failure)) return false;
  return /HTTP 50[234]\b|store_unavailable|temporarily_unavailable|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|fetch failed|other side closed/.test(failure);
}

function windowOf(phase: Phase): [number, number] | undefined {
  return phase.fault ? [phase.start, phase.fault.repaired + SETTLE_MS] : undefined;
}

const KINDS: OperationKind[] = ['login', 'refresh', 'userinfo'];

function report(phases: Phase[], operations: Operation[], loss: LossReport, finalRefreshes: string[]): boolean {
  const windows = phases.map(windowOf).filter((window): window is [number, number] => Boolean(window));
  const inWindow = (operation: Operation) => windows.some(([from, to]) => operation.end >= from && operation.start <= to);
  const problems: string[] = [];

  process.stdout.write('\nphase                                              seconds   login ok/failed   refresh ok/failed   userinfo ok/failed   median ms (login/refresh/userinfo)   last failure\n');
  for (const phase of phases) {
    const mine = operations.filter((operation) => operation.end >= phase.start && operation.end < phase.end);
    const cells = KINDS.map((kind) => {
      const ofKind = mine.filter((operation) => operation.kind === kind);
      return `${ofKind.filter((operation) => operation.ok).length}/${ofKind.filter((operation) => !operation.ok).length}`;
    });
    let recovered = '';
    if (phase.fault) {
      const failed = mine.filter((operation) => !operation.ok);
      const last = failed.reduce((latest, operation) => Math.max(latest, operation.end), phase.fault.injected);
      const afterRepair = last - phase.fault.repaired;
      recovered = failed.length === 0 ? 'no failure'
        : `${seconds(last - phase.start)} after it began, ${afterRepair > 0 ? `${seconds(afterRepair)} after the repair` : 'before the repair'}`;
    }
    const medians = KINDS.map((kind) => median(mine.filter((operation) => operation.kind === kind && operation.ok).map((operation) => operation.end - operation.start))).join('/');
    process.stdout.write(`${phase.name.padEnd(50)} ${seconds(phase.end - phase.start).padStart(7)}   ${cells[0]!.padStart(15)}   ${cells[1]!.padStart(17)}   ${cells[2]!.padStart(18)}   ${medians.padStart(34)}   ${recovered}\n`);
    if (!phase.fault) {
      for (const kind of KINDS) {
        if (!mine.some((operation) => operation.kind === kind && operation.ok)) problems.push(`${phase.name}: no ${kind} succeeded (no load?)`);
      }
    }
    const reasons = new Map<string, number>();
    for (const operation of mine.filter((candidate) => !candidate.ok)) reasons.set(`${operation.kind}: ${operation.failure}`, (reasons.get(`${operation.kind}: ${operation.failure}`) ?? 0) + 1);
    for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 4)) process.stdout.write(`    ${count} × ${reason}\n`);
  }

  // Inside a window an outage is a 503 with Retry-After (or a 502 from the balancer, or a
  // connection cut, for a request the killed instance had); a 500 is a bug wherever it
  // happens, and so is any other refusal (a lost login answers 400 invalid_grant).
  const crashed = operations.filter((operation) => !operation.ok && /HTTP 500/.test(operation.failure ?? ''));
  for (const operation of crashed.slice(0, 5)) problems.push(`an internal error at ${seconds(operation.start)}: ${operation.kind}: ${operation.failure}`);
  const unlikeAnOutage = operations.filter((operation) => !operation.ok && inWindow(operation) && !/HTTP 500/.test(operation.failure ?? '') && !outageLike(operation.failure ?? ''));
  for (const operation of unlikeAnOutage.slice(0, 5)) problems.push(`inside a fault window but not an outage's answer at ${seconds(operation.start)}: ${operation.kind}: ${operation.failure}`);
  const outside = operations.filter((operation) => !operation.ok && !inWindow(operation));
  for (const operation of outside.slice(0, 10)) problems.push(`failed outside every fault window at ${seconds(operation.start)}: ${operation.kind}: ${operation.failure}`);
  if (outside.length > 10) problems.push(`… and ${outside.length - 10} more failures outside the fault windows`);
  const refusedFinal = finalRefreshes.filter((outcome) => outcome !== 'ok');
  if (refusedFinal.length > 0) problems.push(`${refusedFinal.length} of ${finalRefreshes.length} apps lost their login: ${refusedFinal[0]}`);
  if (loss.missingRefreshTokens > 0) problems.push(`${loss.missingRefreshTokens} refresh tokens given to clients are gone`);
  if (loss.missingGrants > 0) problems.push(`${loss.missingGrants} grants are gone`);
  if (loss.missingAccounts > 0) problems.push(`${loss.missingAccounts} accounts are gone`);
  if (loss.unauditedLogins > 0) problems.push(`${loss.unauditedLogins} successful logins have no audit record`);
  if (!loss.auditChain.startsWith('ok')) problems.push(`audit chain ${loss.auditChain}`);

  process.stdout.write(`\nchecked after the run: ${loss.checked.refreshTokens} refresh tokens and their grants, ${loss.checked.logins} logins and their audit records, ${loss.checked.accounts} accounts; audit chain ${loss.auditChain}; ${finalRefreshes.length - refusedFinal.length}/${finalRefreshes.length} apps still refresh\n`);
  process.stdout.write(`operations: ${operations.length}, failed: ${operations.filter((operation) => !operation.ok).length} (all inside fault windows unless listed below)\n`);
  if (problems.length === 0) {
    process.stdout.write(`topology: PASS in ${seconds(now())}\n`);
    return true;
  }
  for (const problem of problems) process.stdout.write(`  ✘ ${problem}\n`);
  process.stdout.write(`topology: FAIL in ${seconds(now())}\n`);
  return false;
}

let passed = false;
try {
  passed = await main();
} catch (error) {
  log(`topology: could not run: ${(error as Error).stack ?? String(error)}`);
} finally {
  await tearDown();
}
process.exit(passed ? 0 : 1);
