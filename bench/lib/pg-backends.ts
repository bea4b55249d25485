import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import pg from 'pg';
import { cpuOf } from './server.js';

/**
 * The PostgreSQL backends serving one of our processes, found the way `ss -p` would:
 * the process's socket inodes → their local ports (/proc/net/tcp{,6}) → the backend whose
 * pg_stat_activity.client_port is that port. Works when PostgreSQL runs on this machine;
 * its CPU is then part of what one operation costs the machine.
 */
export class PostgresBackends {
  private readonly client: pg.Client;

  private constructor(client: pg.Client, private readonly serverPort: number) {
    this.client = client;
  }

  static async open(url: string): Promise<PostgresBackends | undefined> {
    const parsed = new URL(url);
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(parsed.hostname)) return undefined;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresBackends(client, Number(parsed.port || 5432));
  }

  private localPorts(pids: number[]): Set<number> {
    const inodes = new Set<string>();
    for (const pid of pids) {
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
          const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
          if (inode) inodes.add(inode);
        } catch {
          // closed meanwhile
        }
      }
    }
    const ports = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let lines: string[] = [];
      try {
        lines = readFileSync(table, 'utf8').split('\n').slice(1);
      } catch {
        continue;
      }
      for (const line of lines) {
        const fields = line.trim().split(/\s+/);
        if (fields.length < 10) continue;
        const local = Number.parseInt(fields[1]!.split(':')[1]!, 16);
        const remote = Number.parseInt(fields[2]!.split(':')[1]!, 16);
        if (remote === this.serverPort && inodes.has(fields[9]!)) ports.add(local);
      }
    }
    return ports;
  }

  /** CPU seconds used so far by the backends connected to these processes. */
  async cpuSeconds(pids: number[]): Promise<{ seconds: number; backends: Map<number, number> }> {
    const ports = this.localPorts(pids);
    const { rows } = await this.client.query<{ pid: number; client_port: number }>('select pid, client_port from pg_stat_activity where client_port is not null');
    const backends = new Map<number, number>();
    for (const row of rows) if (ports.has(row.client_port)) backends.set(row.pid, cpuOf(row.pid));
    return { seconds: [...backends.values()].reduce((a, b) => a + b, 0), backends };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** CPU used between two readings, counting backends that came or went in between from zero. */
export function backendCpuBetween(start: Map<number, number>, end: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of end) total += seconds - (start.get(pid) ?? 0);
  return Math.max(0, total);
}
