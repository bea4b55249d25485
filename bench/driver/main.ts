/**
 * The load driver: a process of its own (forked by bench/run.ts), so its work is not
 * counted against the server and its event loop is not the server's. It runs one
 * scenario at a time as `concurrency` closed loops and answers with the figures.
 */
import type { DriverReply, LatencySummary, RunRequest, RunResult, SinkRequest } from '../lib/protocol.js';
import { smsSink } from './outbox.js';
import { round, summarise } from '../lib/stats.js';
import { HttpClient } from './http.js';
import { scenarios, wrapped, type ScenarioContext } from './scenarios.js';

let stopping = false;

async function run(request: RunRequest): Promise<RunResult> {
  const scenario = scenarios[request.scenario];
  const http = new HttpClient(request.base, request.concurrency * 2);
  const ctx: ScenarioContext = { http, params: request.params, concurrency: request.concurrency };
  wrapped.during = false;
  const setupStarted = performance.now();
  const state = await scenario.setup(ctx);
  const setupMs = performance.now() - setupStarted;

  const latencies: number[] = [];
  const steps = new Map<string, number[]>();
  const samples = new Set<string>();
  let errors = 0;
  let warmupErrors = 0;
  let successes = 0;

  const started = performance.now();
  const countMode = request.count !== undefined;
  const measureFrom = countMode ? started : started + request.warmupMs;
  const end = countMode ? Number.POSITIVE_INFINITY : measureFrom + request.durationMs;
  let lastCompletion = started;
  const mark = (phase: 'start' | 'end') => process.send?.({ type: 'mark', id: request.id, phase } satisfies DriverReply);
  const marks = countMode ? [] : [
    setTimeout(() => mark('start'), Math.max(0, measureFrom - performance.now())),
    setTimeout(() => mark('end'), Math.max(0, end - performance.now())),
  ];
  const more = () => !stopping && (countMode ? successes < request.count! : performance.now() < end);

  async function loop(index: number): Promise<void> {
    while (more()) {
      const times: Record<string, number> = {};
      const t0 = performance.now();
      try {
        await scenario.op(ctx, state, index, times);
        const done = performance.now();
        if (done >= measureFrom && done <= end) {
          successes += 1;
          latencies.push(done - t0);
          lastCompletion = done;
          for (const [name, ms] of Object.entries(times)) {
            let list = steps.get(name);
            if (!list) steps.set(name, (list = []));
            list.push(ms);
          }
        }
      } catch (error) {
        const done = performance.now();
        if (done < measureFrom) warmupErrors += 1;
        else if (done <= end) errors += 1;
        if (samples.size < 5) samples.add((error as Error).message.slice(0, 200));
        // Do not spin on a dead server.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  await Promise.all(Array.from({ length: request.concurrency }, (_, index) => loop(index)));
  for (const timer of marks) clearTimeout(timer);
  await scenario.teardown?.(state);
  http.close();

  const seconds = ((countMode ? lastCompletion : Math.min(end, performance.now())) - measureFrom) / 1000;
  const summary = summarise(latencies);
  const stepSummary: Record<string, LatencySummary> = {};
  for (const [name, list] of steps) {
    const { p50_ms, p99_ms, mean_ms } = summarise(list);
    stepSummary[name] = { p50_ms, p99_ms, mean_ms };
  }
  return {
    type: 'result',
    id: request.id,
    ops: latencies.length,
    seconds: round(seconds, 3),
    ops_per_s: round(seconds > 0 ? latencies.length / seconds : 0, 1),
    ...summary,
    errors,
    warmup_errors: warmupErrors,
    error_samples: [...samples],
    ...(steps.size > 1 ? { steps: stepSummary } : {}),
    setup_ms: round(setupMs, 0),
    ...(wrapped.during ? { accounts_wrapped: true } : {}),
  };
}

process.on('message', (message: RunRequest | SinkRequest | { type: 'stop' }) => {
  if (message.type === 'stop') {
    stopping = true;
    return;
  }
  if (message.type === 'sink') {
    smsSink.listen().then((port) => process.send?.({ type: 'sink-ready', id: message.id, port } satisfies DriverReply));
    return;
  }
  stopping = false;
  run(message).then(
    (result) => process.send?.(result satisfies DriverReply),
    (error: unknown) => process.send?.({ type: 'failure', id: message.id, message: (error as Error).stack ?? String(error) } satisfies DriverReply),
  );
});
process.on('disconnect', () => process.exit(0));
// The bench owns the life of this process; a terminal Ctrl-C is handled there.
process.on('SIGINT', () => { stopping = true; });
