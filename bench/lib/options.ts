import { resolve } from 'node:path';
import { SCENARIOS, type ScenarioName } from './targets.js';
import { ROOT } from './server.js';

export interface BenchOptions {
  quick: boolean;
  accounts: number;
  concurrency: number;
  /** Measured seconds per scenario, after the warm-up. */
  durationS: number;
  warmupS: number;
  /** SSO sessions created for the memory figure. */
  sessions: number;
  /** Seconds of sequential argon2id verification for its ceiling. */
  argon2S: number;
  workers: number;
  /** A second pass of every scenario on a server with this many workers (full run: 2). */
  alsoWorkers?: number;
  alsoWorkersExplicit: boolean;
  only: ScenarioName[];
  memory: boolean;
  ceilings: boolean;
  out: string;
  profile: boolean;
  compiled: boolean;
  sms: 'outbox' | 'gateway';
  schema?: string;
  /** The run a large --accounts run is compared with. */
  baseline?: string;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

  --quick              smoke run: ${'2,000'} accounts, 4 s per scenario, 1,000 sessions (< 2 min)
  --accounts N         accounts seeded into the store (default 10,000; quick 2,000)
  --concurrency N      closed loops driving each scenario (default 16)
  --duration S         measured seconds per scenario (default 30; quick 4)
  --warmup S           unmeasured seconds before each (default 5; quick 1)
  --sessions N         SSO sessions created for the memory figure (default 10,000; quick 1,000)
  --workers N          WORKERS for the server (default 1; more needs DATABASE_URL and REDIS_URL)
  --also-workers N     then every scenario again with WORKERS=N, with its per-core efficiency
                       (full run: 2 when DATABASE_URL and REDIS_URL are set; quick: none; 0: none)
  --only a,b           only these scenarios: ${SCENARIOS.join(', ')}
  --no-memory          skip the memory figure
  --no-ceilings        skip the ceilings (ratios are then null)
  --profile            run the server under --cpu-prof and summarise the hottest functions
  --sms outbox|gateway how SMS codes reach the driver: the outbox file (SMS_GATEWAY=outbox,
                       the default) or the production http adapter posting to the driver
  --tsx                run the server as npm start does (node --import tsx src/main.ts) instead
                       of as deployed (the default: a tsc build in a temp dir, node dist/main.js,
                       as the Dockerfile runs it; --compiled says so explicitly)
  --schema NAME        use this schema (bench_…) instead of a random one; refused if it exists
  --out FILE           where to write the JSON (default bench/results/latest.json)
  --baseline FILE      with --accounts ≥ 100,000: compare password-login with this smaller run
                       (default bench/results/latest.json), e.g.
                       npm run bench -- --accounts 1000000 --only password-login --no-memory --out bench/results/accounts-1m.json

Stores: real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, else the
embedded defaults (PGlite, in-process cache). The bench works only in a schema and a
Redis key prefix it creates, and removes both when it ends (also on Ctrl-C).`;

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got "${value}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    quick,
    accounts: quick ? 2_000 : 10_000,
    concurrency: 16,
    durationS: quick ? 4 : 30,
    warmupS: quick ? 1 : 5,
    sessions: quick ? 1_000 : 10_000,
    argon2S: quick ? 2 : 8,
    workers: 1,
    ...(quick ? {} : { alsoWorkers: 2 }),
    alsoWorkersExplicit: false,
    only: [...SCENARIOS],
    memory: true,
    ceilings: true,
    out: resolve(ROOT, 'bench/results/latest.json'),
    profile: false,
    // What production runs: the figures are for the deployment, not for the laptop loader.
    compiled: true,
    sms: 'outbox',
    help: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick': break;
      case '--accounts': options.accounts = Math.floor(positive(flag, value())); break;
      case '--concurrency': options.concurrency = Math.floor(positive(flag, value())); break;
      case '--duration': options.durationS = positive(flag, value()); break;
      case '--warmup': options.warmupS = Number(value() ?? 0); break;
      case '--sessions': options.sessions = Math.floor(positive(flag, value())); break;
      case '--workers': options.workers = Math.floor(positive(flag, value())); break;
      case '--also-workers': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) throw new Error(`--also-workers: a whole number, 0 for none, not "${n}"`);
        options.alsoWorkers = n > 1 ? n : undefined;
        options.alsoWorkersExplicit = true;
        break;
      }
      case '--only': {
        const names = (value() ?? '').split(',').map((name) => name.trim()).filter(Boolean);
        const unknown = names.filter((name) => !SCENARIOS.includes(name as ScenarioName));
        if (unknown.length) throw new Error(`--only: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
        options.only = names as ScenarioName[];
        break;
      }
      case '--no-memory': options.memory = false; break;
      case '--no-ceilings': options.ceilings = false; break;
      case '--profile': options.profile = true; break;
      case '--compiled': options.compiled = true; break;
      case '--tsx': options.compiled = false; break;
      case '--sms': {
        const kind = value();
        if (kind !== 'outbox' && kind !== 'gateway') throw new Error(`--sms: outbox or gateway, not "${kind}"`);
        options.sms = kind;
        break;
      }
      case '--schema': options.schema = value(); break;
      case '--baseline': options.baseline = resolve(process.cwd(), value() ?? ''); break;
      case '--out': options.out = resolve(process.cwd(), value() ?? ''); break;
      case '--help': case '-h': options.help = true; break;
      default: throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  return options;
}
