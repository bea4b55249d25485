import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

/** initdb and pg_ctl refuse to run as root: as root, they run as the postgres user. */
async function asPostgres(command: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'runuser' : join(PG_BIN, command), asRoot ? ['-u', 'postgres', '--', join(PG_BIN, command), ...args] : args);
}

async function postgresUid(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPrivatePostgres(): Promise<PrivateStore> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-pg-'));
  const owner = await postgresUid();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  let running = false;
  const store: PrivateStore = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      if (running) return;
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await store.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await store.start();
  return store;
}

export async function startPrivateRedis(): Promise<PrivateStore> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const store: PrivateStore = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          if (!output.includes('Ready to accept connections')) return;
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
      const exited = once(running, 'exit');
      running.kill('SIGTERM');
      await exited;
    },
    destroy: () => store.stop(),
  };
  await store.start();
  return store;
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
