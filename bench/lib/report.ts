import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LatencySummary } from './protocol.js';
import { GOALS, MEMORY_GOALS, SCENARIOS, type ScenarioFigures, type ScenarioName } from './targets.js';
import type { KeyFamily } from './redis-usage.js';

export interface ScenarioReport extends ScenarioFigures {
  target: string;
  meets: boolean | null;
  /** Why figures are missing, or what to keep in mind reading them. */
  note?: string;
  concurrency?: number;
  seconds?: number;
  mean_ms?: number | null;
  max_ms?: number | null;
  /** CPU milliseconds the server process (all threads) spent per operation in the measured window. */
  server_cpu_ms_per_op?: number | null;
  /** The same for the PostgreSQL backends serving the server (when PostgreSQL runs on this machine). */
  db_cpu_ms_per_op?: number | null;
  /** The same for the load driver, which shares the machine. */
  driver_cpu_ms_per_op?: number | null;
  /** ceiling CPU per operation / ours: the ratio by CPU cost, steadier than by throughput on a busy machine. */
  cpu_ratio?: number;
  ceiling?: { what: string; p50_ms?: number | null; p99_ms?: number | null; errors?: number; server_cpu_ms_per_op?: number | null };
  error_samples?: string[];
  steps?: Record<string, LatencySummary>;
  /** password-login with many accounts against a smaller run (--baseline). */
  /** In the pass with more workers: ops/s ÷ (the one-worker ops/s × workers). */
  per_core_efficiency?: number;
  scale?: { target: string; baseline: string; baseline_accounts: number; baseline_ops_per_s: number; ratio: number; meets: boolean };
}

export interface MemoryReport {
  /**
   * RSS as a process manager (systemd, Kubernetes, top) sees it: read before any forced
   * GC. The goal is judged on this figure; the `_after_gc_` ones show what V8 gives back.
   */
  rss_idle_mb: number | null;
  rss_idle_after_gc_mb?: number | null;
  /** The highest RSS the server's processes reached during the whole run (VmHWM). */
  rss_peak_mb?: number;
  /** After the warm-up logins: the baseline the growth is measured from. */
  rss_warm_mb?: number | null;
  rss_after_sessions_mb: number | null;
  rss_growth_mb: number | null;
  rss_growth_from_idle_mb?: number | null;
  sessions: number | null;
  warmup_sessions?: number;
  session_login_errors?: number;
  growth_per_10k_sessions_mb: number | null;
  /** True when fewer than 10,000 sessions were made and the growth was scaled up. */
  extrapolated: boolean;
  /** V8 heap in use after a forced full GC: what the process really retains. */
  heap_idle_mb?: number;
  heap_warm_mb?: number;
  heap_after_sessions_mb?: number;
  heap_growth_per_10k_sessions_mb?: number | null;
  /** RSS once every scenario has run, before a forced GC, and after it. */
  rss_end_mb?: number;
  rss_end_after_gc_mb?: number;
  /** Warm-up, sessions and end figures after a forced full GC (growth is measured on these). */
  rss_after_gc_mb?: { idle: number; warm: number; after_sessions: number; end?: number };
  redis_bytes_per_session: number | null;
  redis_bytes_per_login_all_keys?: number | null;
  redis_families?: Record<string, KeyFamily>;
  targets: Record<string, string>;
  meets: { idle_rss: boolean | null; growth: boolean | null; redis_per_session: boolean | null };
  note?: string;
}

export interface BenchReport {
  at: string;
  node: string;
  stores: { database: 'postgres' | 'pglite'; cache: 'redis' | 'memory'; note: string };
  /** How the server was started. */
  server: string;
  /** How SMS codes travelled from the server to the driver. */
  sms: string;
  workers: number;
  mode: 'quick' | 'full' | 'custom';
  accounts: number;
  concurrency: number;
  machine: { cpus: number; load_before: number[]; load_after: number[] };
  seeding_s?: number;
  duration_s?: number;
  scenarios: Partial<Record<ScenarioName, ScenarioReport>>;
  memory: MemoryReport | null;
  /** The same scenarios on a server with more workers (`--also-workers`), without ceilings. */
  with_more_workers?: { workers: number; scenarios: Partial<Record<ScenarioName, ScenarioReport>> };
  interrupted?: boolean;
}

export function withGoal(name: ScenarioName, figures: ScenarioFigures & Partial<ScenarioReport>, all: Partial<Record<ScenarioName, ScenarioFigures>>): ScenarioReport {
  return { ...figures, target: GOALS[name].text, meets: GOALS[name].meets(figures, all) };
}

export function memoryGoals(memory: Omit<MemoryReport, 'targets' | 'meets'>): MemoryReport {
  const check = (value: number | null, limit: number) => (value === null ? null : value < limit);
  return {
    ...memory,
    targets: {
      idle_rss: MEMORY_GOALS.idleRssMb.text,
      growth: MEMORY_GOALS.growthPer10kMb.text,
      redis_per_session: MEMORY_GOALS.redisBytesPerSession.text,
    },
    meets: {
      idle_rss: check(memory.rss_idle_mb, MEMORY_GOALS.idleRssMb.limit),
      growth: check(memory.growth_per_10k_sessions_mb, MEMORY_GOALS.growthPer10kMb.limit),
      redis_per_session: check(memory.redis_bytes_per_session, MEMORY_GOALS.redisBytesPerSession.limit),
    },
  };
}

function fmt(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function verdict(meets: boolean | null): string {
  return meets === null ? 'n/a' : meets ? 'yes' : 'NO';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  const line = (row: string[]) => row.map((cell, column) => {
    const pad = ' '.repeat(widths[column]! - [...cell].length);
    return column === 0 || column >= row.length - 2 ? cell + pad : pad + cell;
  }).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function renderTable(report: BenchReport): string {
  const withDb = Object.values(report.scenarios).some((s) => s?.db_cpu_ms_per_op !== undefined);
  const rows: string[][] = [['scenario', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'ceiling/s', 'ratio', 'cpu ms/op', ...(withDb ? ['pg ms/op'] : []), 'meets', 'target']];
  for (const name of SCENARIOS) {
    const s = report.scenarios[name];
    if (!s) continue;
    const cpu = s.server_cpu_ms_per_op ? `${fmt(s.server_cpu_ms_per_op, 2)}${s.ceiling?.server_cpu_ms_per_op ? ` / ${fmt(s.ceiling.server_cpu_ms_per_op, 2)}` : ''}` : '—';
    rows.push([name, fmt(s.ops_per_s, 1), fmt(s.p50_ms, 1), fmt(s.p99_ms, 1), fmt(s.errors), fmt(s.ceiling_ops_per_s, 1), fmt(s.ratio, 2), cpu, ...(withDb ? [fmt(s.db_cpu_ms_per_op, 2)] : []), verdict(s.meets), s.note && s.ops_per_s === null ? s.note.slice(0, 90) : s.target]);
  }
  const out = [table(rows)];
  const more = report.with_more_workers;
  if (more) {
    const moreRows: string[][] = [[`WORKERS=${more.workers}`, 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'cpu ms/op', 'per-core efficiency', 'meets', 'target']];
    for (const name of SCENARIOS) {
      const s = more.scenarios[name];
      if (!s) continue;
      moreRows.push([name, fmt(s.ops_per_s, 1), fmt(s.p50_ms, 1), fmt(s.p99_ms, 1), fmt(s.errors), fmt(s.server_cpu_ms_per_op, 2), fmt(s.per_core_efficiency, 2), verdict(s.meets), s.note && s.ops_per_s === null ? s.note.slice(0, 90) : s.target]);
    }
    out.push(table(moreRows));
  }
  const scale = report.scenarios['password-login']?.scale;
  if (scale) {
    out.push(`password-login with ${fmt(report.accounts)} accounts: ${fmt(report.scenarios['password-login']!.ops_per_s, 1)}/s against ${fmt(scale.baseline_ops_per_s, 1)}/s with ${fmt(scale.baseline_accounts)} (${scale.baseline}): ratio ${fmt(scale.ratio, 2)}, meets ${verdict(scale.meets)} (${scale.target})`);
  }
  const m = report.memory;
  if (m) {
    const memoryRows: string[][] = [['memory', 'value', 'meets', 'target']];
    memoryRows.push(['idle RSS (as a process manager sees it)', `${fmt(m.rss_idle_mb, 1)} MB`, verdict(m.meets.idle_rss), m.targets.idle_rss!]);
    if (m.rss_peak_mb !== undefined) memoryRows.push(['peak RSS during the run (VmHWM)', `${fmt(m.rss_peak_mb, 1)} MB`, '', 'size memory limits from this']);
    if (m.rss_end_mb !== undefined) memoryRows.push(['RSS after every scenario', `${fmt(m.rss_end_mb, 1)} MB`, '', 'argon2id buffers stay in malloc arenas']);
    if (m.rss_after_gc_mb) memoryRows.push(['RSS after a forced GC: idle / warm / after / end', [m.rss_after_gc_mb.idle, m.rss_after_gc_mb.warm, m.rss_after_gc_mb.after_sessions, m.rss_after_gc_mb.end].map((v) => fmt(v, 0)).join(' / ') + ' MB', '', 'what V8 gives back when it collects']);
    memoryRows.push([`RSS after GC, warm → after ${fmt(m.sessions)} more sessions`, `${fmt(m.rss_warm_mb, 1)} → ${fmt(m.rss_after_sessions_mb, 1)} MB`, '', `${fmt(m.warmup_sessions)} warm-up logins first`]);
    memoryRows.push([`growth per 10,000 sessions${m.extrapolated ? ' (extrapolated)' : ''}`, `${fmt(m.growth_per_10k_sessions_mb, 1)} MB`, verdict(m.meets.growth), m.targets.growth!]);
    if (m.heap_growth_per_10k_sessions_mb !== undefined) {
      memoryRows.push([`heap after GC: idle → warm → after`, `${fmt(m.heap_idle_mb, 1)} → ${fmt(m.heap_warm_mb, 1)} → ${fmt(m.heap_after_sessions_mb, 1)} MB`, '', '']);
      memoryRows.push([`heap growth per 10,000 sessions${m.extrapolated ? ' (extrapolated)' : ''}`, `${fmt(m.heap_growth_per_10k_sessions_mb, 1)} MB`, '', 'what V8 retains']);
    }
    memoryRows.push(['Redis per session', m.redis_bytes_per_session === null ? '— (no Redis)' : `${fmt(m.redis_bytes_per_session)} B`, verdict(m.meets.redis_per_session), m.targets.redis_per_session!]);
    out.push(table(memoryRows));
  }
  out.push(`cpu ms/op: CPU time of the server process (all threads) per operation in the measured window; "ours / ceiling" where the ceiling is the bare provider.${withDb ? '\npg ms/op: CPU time of the PostgreSQL backends serving the server, per operation.' : ''}`);
  return out.join('\n\n');
}

export function writeReport(file: string, report: BenchReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
