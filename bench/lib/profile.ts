import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT } from './server.js';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotFunction {
  function: string;
  where: string;
  self_ms: number;
  self_pct: number;
}

function where(url: string, line: number): string {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  const shown = path.startsWith(ROOT) ? relative(ROOT, path) : path;
  return `${shown.replace(/^node_modules\//, 'nm/')}:${line + 1}`;
}

/** Self time per function (summed over every place it was sampled), hottest first. */
export function hottest(file: string, top = 25): { total_ms: number; idle_pct: number; functions: HotFunction[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, { fn: string; at: string; us: number }>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += delta;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += delta;
    const key = `${functionName}@${url}:${lineNumber}`;
    const entry = self.get(key) ?? { fn: functionName || '(anonymous)', at: where(url, lineNumber), us: 0 };
    entry.us += delta;
    self.set(key, entry);
  });
  const busy = total - idle;
  const functions = [...self.values()]
    .filter((entry) => entry.fn !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((entry) => ({ function: entry.fn, where: entry.at, self_ms: Math.round(entry.us / 1000), self_pct: Math.round((entry.us / Math.max(1, busy)) * 1000) / 10 }));
  return { total_ms: Math.round(total / 1000), idle_pct: Math.round((idle / Math.max(1, total)) * 1000) / 10, functions };
}

/** Self time grouped by package (node_modules/<name>) or project directory: where the CPU goes, coarsely. */
export function byPackage(file: string): Array<{ owner: string; self_pct: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const owners = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[index] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    busy += delta;
    const url = node.callFrame.url.startsWith('file://') ? new URL(node.callFrame.url).pathname : node.callFrame.url;
    let owner: string;
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (nm) owner = nm[1]!;
    else if (url.startsWith(ROOT)) owner = relative(ROOT, url).split('/').slice(0, 2).join('/');
    else if (url.startsWith('node:')) owner = 'node (built-in JS)';
    else owner = node.callFrame.functionName === '(garbage collector)' ? '(garbage collector)' : '(native / V8)';
    owners.set(owner, (owners.get(owner) ?? 0) + delta);
  });
  return [...owners].sort((a, b) => b[1] - a[1]).map(([owner, us]) => ({ owner, self_pct: Math.round((us / Math.max(1, busy)) * 1000) / 10 }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/lib/profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const summary = hottest(file, Number(process.argv[3] ?? 30));
  process.stdout.write(`${summary.total_ms} ms sampled, ${summary.idle_pct} % idle\n\nself-time by owner:\n`);
  for (const { owner, self_pct } of byPackage(file).slice(0, 15)) process.stdout.write(`  ${String(self_pct).padStart(5)} %  ${owner}\n`);
  process.stdout.write('\nhottest functions (self time):\n');
  for (const fn of summary.functions) process.stdout.write(`  ${String(fn.self_pct).padStart(5)} %  ${String(fn.self_ms).padStart(6)} ms  ${fn.function}  ${fn.where}\n`);
}
