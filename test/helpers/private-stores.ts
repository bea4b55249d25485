import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './server.js';

/**
 * PostgreSQL and Redis instances of a test's own, on free ports, to stop, restart and
 * lose under a running server. Fault tests use these and never the machine's shared
 * PostgreSQL (5432) or Redis (6379), which other tests and people are using.
 */

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivateStore {
  url: string;
  /** Stops the instance (PostgreSQL: fast shutdown, ending every connection; Redis: its process ends). */
  stop(): Promise<void>;
  /** Starts it again on the same port, if stopped (Redis comes back empty: nothing is persisted). */
  start(): Promise<void>;
  /** Stops it for good and deletes its files. */
  destroy(): Promise<void>;
}

/** runuser lives in sbin, which a root shell's PATH may lack. */
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser'].find((path) => existsSync(path)) ?? 'runuser';

/** initdb and pg_ctl refuse to run as root: as root, they run as the postgres user. */
async function asPostgres(command: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? RUNUSER : join(PG_BIN, command), asRoot ? ['-u', 'postgres', '--', join(PG_BIN, command), ...args] : args);
}

/**
 * Starts instances side by side. When one fails, those that did start are destroyed before
 * the failure is thrown: an instance nobody holds would keep the test process alive.
 */
export async function startTogether<T extends Array<{ destroy(): Promise<void> }>>(...starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((outcome) => outcome.status === 'rejected');
  if (!failure) return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as T;
  await Promise.all(settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.destroy().catch(() => {}) : undefined)));
  throw failure.reason;
}

async function postgresUid(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export interface PrivatePostgres extends PrivateStore {
  port: number;
  /** Stops it as a crash would (immediate shutdown: no checkpoint, connections cut). */
  crash(): Promise<void>;
  /** Freezes every process of it (SIGSTOP): connections stay open and nothing answers, as on a hung machine. */
  pause(): Promise<void>;
  /** Lets a paused instance run on (SIGCONT). */
  resume(): Promise<void>;
  /** A standby becomes a primary (pg_ctl promote), and accepts writes when this resolves. */
  promote(): Promise<void>;
}

/** A data directory under `dir` served on `port` by pg_ctl; not started. */
function postgresInstance(dir: string, data: string, port: number): PrivatePostgres {
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  let running = false;
  let paused = false;
  const log = join(dir, `log-${port}`);
  const instance: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      if (running) return;
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    async crash() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
      running = false;
    },
    async promote() {
      await asPostgres('pg_ctl', ['-D', data, '-w', '-t', '60', 'promote']);
    },
    async pause() {
      for (const pid of await processesOf(data)) process.kill(pid, 'SIGSTOP');
      paused = true;
    },
    async resume() {
      for (const pid of await processesOf(data)) process.kill(pid, 'SIGCONT');
      paused = false;
    },
    async destroy() {
      if (paused) await instance.resume().catch(() => {});
      if (running) await instance.stop().catch(() => {});
    },
  };
  return instance;
}

/** The postmaster of a running data directory and every process it started. */
async function processesOf(data: string): Promise<number[]> {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = await run('pgrep', ['-P', String(postmaster)]).then(({ stdout }) => stdout.split('\n').filter(Boolean).map(Number), () => []);
  return [postmaster, ...children];
}

/** A directory for PostgreSQL's files, owned by the user it runs as. */
async function postgresDirectory(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-pg-'));
  const owner = await postgresUid();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await postgresDirectory();
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const instance = postgresInstance(dir, data, await freePort());
  const destroy = instance.destroy;
  instance.destroy = async () => {
    await destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  await instance.start();
  return instance;
}

export interface PrivatePostgresPair {
  primary: PrivatePostgres;
  /** A streaming replica of the primary (pg_basebackup -R), hot: it answers reads. */
  standby: PrivatePostgres;
  /** Both hosts in one DATABASE_URL, the standby first: only the primary may be used. */
  url: string;
  destroy(): Promise<void>;
}

/**
 * A primary and its streaming standby on free ports. With `synchronous`, a commit returns
 * only once the standby has it, so a failover loses no committed transaction; without,
 * replication is asynchronous, as PostgreSQL's default is.
 */
export async function startPrivatePostgresPair(options: { synchronous?: boolean } = {}): Promise<PrivatePostgresPair> {
  const primary = await startPrivatePostgres();
  const dir = await postgresDirectory();
  const data = join(dir, 'data');
  const standby = postgresInstance(dir, data, await freePort());
  const pair: PrivatePostgresPair = {
    primary,
    standby,
    url: `postgres://postgres@127.0.0.1:${standby.port},127.0.0.1:${primary.port}/postgres`,
    async destroy() {
      await Promise.all([primary.destroy(), standby.destroy()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', data, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
    await standby.start();
    const replicas = async () => {
      const client = new pg.Client({ connectionString: primary.url });
      await client.connect();
      try {
        if (options.synchronous) {
          // Set on the primary only: the standby, once promoted, must not wait for a standby of its own.
          await client.query("alter system set synchronous_standby_names = '*'");
          await client.query('select pg_reload_conf()');
        }
        const { rows } = await client.query<{ state: string; sync_state: string }>('select state, sync_state from pg_stat_replication');
        return rows.some((row) => row.state === 'streaming' && (!options.synchronous || row.sync_state === 'sync')) ? true : undefined;
      } finally {
        await client.end();
      }
    };
    await eventually(replicas);
  } catch (error) {
    await pair.destroy();
    throw error;
  }
  return pair;
}

/** A Redis of the test's own, which can also be frozen as a hung server is. */
export interface PrivateRedis extends PrivateStore {
  /** Freezes the process (SIGSTOP): connections stay open and nothing is answered. */
  pause(): Promise<void>;
  /** Lets a paused instance run on (SIGCONT). */
  resume(): Promise<void>;
}

/** One redis-server process on `port`, which `start` runs (again) with `args` and waits for. */
function redisProcess(port: number, args: string[], readyText = 'Ready to accept connections'): PrivateRedis {
  let child: ChildProcess | undefined;
  let paused = false;
  const store: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const started = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          if (!output.includes(readyText)) return;
          started.stdout!.off('data', read).resume();
          resolve();
        };
        started.stdout!.on('data', read);
        started.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      });
      child = started;
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      if (paused) await store.resume();
      const exited = once(running, 'exit');
      running.kill('SIGTERM');
      await exited;
    },
    async pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    async resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
    destroy: () => store.stop(),
  };
  return store;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const store = redisProcess(await freePort(), ['--save', '', '--appendonly', 'no']);
  await store.start();
  return store;
}

export interface PrivateRedisCluster {
  /** `redis+cluster://…` naming every master. */
  url: string;
  /** The masters, in the order of their ports; each stops and starts on its own. */
  nodes: PrivateStore[];
  ports: number[];
  destroy(): Promise<void>;
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports. `persistent` keeps each
 * node's data in an append-only file, so a node stopped and started again comes back with
 * its keys, as a restarted production node does; otherwise a restarted node is empty.
 */
export async function startPrivateRedisCluster(options: { persistent?: boolean; nodeTimeoutMs?: number } = {}): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-redis-cluster-'));
  const ports = await clusterPorts(3);
  const nodes = ports.map((port) => redisProcess(port, [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 3_000),
    '--dir', dir,
    '--dbfilename', `dump-${port}.rdb`,
    '--save', '',
    '--appendonly', options.persistent ? 'yes' : 'no',
    '--appendfilename', `appendonly-${port}.aof`,
    '--appenddirname', `aof-${port}`,
  ]));
  const cluster: PrivateRedisCluster = {
    url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    nodes,
    ports,
    async destroy() {
      await Promise.all(nodes.map((node) => node.stop().catch(() => {})));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await eventually(async () => {
      const states = await Promise.all(ports.map((port) => redisCommand(port, ['CLUSTER', 'INFO'])));
      return states.every((state) => /cluster_state:ok/.test(state)) ? true : undefined;
    });
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

export interface PrivateRedisSentinel {
  /** `redis+sentinel://…/<master name>` naming every sentinel. */
  url: string;
  masterName: string;
  /** The data nodes: the first starts as master, the second as its replica. */
  servers: PrivateStore[];
  sentinels: PrivateStore[];
  /** The sentinels' ports, in the order of the URL. */
  sentinelPorts: number[];
  /** The port of the master the sentinels name now. */
  masterPort(): Promise<number>;
  /** Has the sentinels fail the master over to the replica, and waits until they name the new one. */
  failover(): Promise<number>;
  destroy(): Promise<void>;
}

/** One master, one replica and `sentinels` sentinels (default three, quorum two) on free ports. */
export async function startPrivateRedisSentinel(options: { sentinels?: number } = {}): Promise<PrivateRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-redis-sentinel-'));
  const count = options.sentinels ?? 3;
  const [masterPort, replicaPort, ...sentinelPorts] = await distinctFreePorts(2 + count);
  const masterName = 'civic';
  const data = ['--save', '', '--appendonly', 'no', '--dir', dir];
  const servers = [
    redisProcess(masterPort!, [...data, '--dbfilename', `dump-${masterPort}.rdb`]),
    redisProcess(replicaPort!, [...data, '--dbfilename', `dump-${replicaPort}.rdb`, '--replicaof', '127.0.0.1', String(masterPort)]),
  ];
  // A sentinel rewrites its configuration file, so each has its own.
  const sentinels = sentinelPorts.map((port) => {
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(file, [
      `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} ${Math.min(2, count)}`,
      `sentinel down-after-milliseconds ${masterName} 1000`,
      `sentinel failover-timeout ${masterName} 10000`,
      `sentinel parallel-syncs ${masterName} 1`,
      '',
    ].join('\n'));
    return redisProcess(port, [file, '--sentinel', '--dir', dir], 'Sentinel ID is');
  });
  const sentinelAnswer = async (port: number) => {
    const reply = await redisCommand(port, ['SENTINEL', 'get-master-addr-by-name', masterName]);
    return Number(reply.trim().split('\n')[1]);
  };
  const setup: PrivateRedisSentinel = {
    url: `redis+sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${masterName}`,
    masterName,
    servers,
    sentinels,
    sentinelPorts,
    masterPort: () => sentinelAnswer(sentinelPorts[0]!),
    async failover() {
      const before = await setup.masterPort();
      await redisCommand(sentinelPorts[0]!, ['SENTINEL', 'FAILOVER', masterName]);
      return eventually(async () => {
        const answers = await Promise.all(sentinelPorts.map(sentinelAnswer));
        const after = answers[0]!;
        if (after === before || answers.some((answer) => answer !== after)) return undefined;
        // The new master has taken writes; the old one follows it.
        return /role:master/.test(await redisCommand(after, ['INFO', 'replication'])) ? after : undefined;
      });
    },
    async destroy() {
      await Promise.all([...sentinels, ...servers].map((store) => store.stop().catch(() => {})));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const server of servers) await server.start();
    await eventually(async () => (/master_link_status:up/.test(await redisCommand(replicaPort!, ['INFO', 'replication'])) ? true : undefined));
    await Promise.all(sentinels.map((sentinel) => sentinel.start()));
    // Every sentinel has found the replica and the other sentinels, so a failover can be agreed.
    await eventually(async () => {
      const views = await Promise.all(sentinelPorts.map((port) => redisCommand(port, ['SENTINEL', 'master', masterName])));
      return views.every((view) => /\nnum-slaves\n1\n/.test(view) && new RegExp(`\\nnum-other-sentinels\\n${count - 1}\\n`).test(view)) ? true : undefined;
    });
  } catch (error) {
    await setup.destroy();
    throw error;
  }
  return setup;
}

/** One command through redis-cli, its reply as text. */
export async function redisCommand(port: number, args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout;
}

/** Whether nothing listens on the port (on 127.0.0.1) now. */
async function isFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Ports for cluster nodes: each node also listens on its port + 10000 (the cluster bus), which must be free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries += 1) {
    if (tries > 1_000) throw new Error('no free ports for a Redis Cluster');
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (!ports.includes(port) && await isFree(port) && await isFree(port + 10_000)) ports.push(port);
  }
  return ports;
}

/** Free ports that differ from one another (each probe closes before the next opens). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Waits until `check` passes, trying every 200 ms, for at most `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const result = await check();
      if (result !== undefined) return result;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}
