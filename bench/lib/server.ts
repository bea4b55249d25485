import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { environmentSchema } from '../../src/config/schema.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
// Cluster workers are found by their executable: Node 24 names its main thread "MainThread",
// so /proc/<pid>/comm no longer says "node"; esbuild's helper (under tsx) has another binary.
const NODE_EXE = realpathSync(process.execPath);

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The process environment without any civic-idp setting: the child gets only what the bench chose. */
function cleanEnvironment(): Record<string, string> {
  const ours = new Set(Object.keys(environmentSchema.shape));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !ours.has(name) && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return env;
}

export interface ChildOptions {
  /** The script, relative to `cwd` (the project root unless given). */
  script: string;
  cwd?: string;
  /** Run the script with tsx (TypeScript sources); false for compiled JavaScript. */
  tsx?: boolean;
  env: Record<string, string>;
  nodeArgs?: string[];
  /** Answers 200 once the process is ready. */
  readyUrl: string;
  name: string;
  timeoutMs?: number;
}

/**
 * A Node process of the project's own (the civic-idp server, or the bare provider used
 * as a ceiling), run through tsx like `npm start`, with its output kept for errors.
 */
export class ChildServer {
  private output: string[] = [];
  private exitCode: number | string | null = null;
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess, readonly name: string) {
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exitCode = signal ?? code;
      resolve();
    }));
  }

  static async start(options: ChildOptions): Promise<ChildServer> {
    const child = spawn(process.execPath, [...(options.tsx === false ? [] : ['--import', 'tsx']), ...(options.nodeArgs ?? []), options.script], {
      cwd: options.cwd ?? ROOT,
      env: { ...cleanEnvironment(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ChildServer(child, options.name);
    await server.waitReady(options.readyUrl, options.timeoutMs ?? 120_000);
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  tail(lines = 20): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  private async waitReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited (${this.exitCode}) before it was ready:\n${this.tail()}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.stop();
    throw new Error(`${this.name} was not ready within ${timeoutMs / 1000} s:\n${this.tail()}`);
  }

  /**
   * Resident memory of the process and of the workers it forked, in bytes. Only Node
   * processes count: tsx's esbuild service (about 12 MB) is a development convenience
   * that a deployment running compiled JavaScript does not have.
   */
  rss(): number {
    return this.nodePids().reduce((total, pid) => total + rssOf(pid), 0);
  }

  /** The sum of each Node process's peak RSS: what a process manager's memory limit must allow. */
  peakRss(): number {
    return this.nodePids().reduce((total, pid) => total + rssOf(pid, 'VmHWM'), 0);
  }

  /** The server's Node processes: itself and its cluster workers. */
  nodePids(): number[] {
    return [this.pid, ...childPids(this.pid).filter((pid) => exeOf(pid) === NODE_EXE)];
  }

  /** CPU seconds (user + system, all threads) used so far by the process and its workers. */
  cpuSeconds(): number {
    return this.nodePids().reduce((total, pid) => total + cpuOf(pid), 0);
  }

  /** SIGKILL: the process ends at once, as in a crash, cutting its connections and requests in flight. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful: the server closes its stores), SIGKILL if it takes too long. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** utime + stime of a process in seconds (USER_HZ is 100 on Linux). */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory now (VmRSS), or its high-water mark since the process started (VmHWM). */
export function rssOf(pid: number, which: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${which}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

function childPids(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
