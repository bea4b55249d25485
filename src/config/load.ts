import { resolve } from 'node:path';
import { environmentSchema, type Environment } from './schema.js';
import {
  loadOrCreateDevSecrets, parseBlindIndexKey, parseCookieKeys, parseDataKeys, SecretFormatError, type Secrets,
} from './secrets.js';

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; schema: string; poolSize: number }
  | { kind: 'pglite'; dataDir: string; schema: string };

export type CacheConfig =
  | { kind: 'redis'; url: string; prefix: string }
  | { kind: 'memory'; prefix: string };

export interface Config {
  env: Environment['NODE_ENV'];
  port: number;
  issuer: string;
  trustProxy: boolean;
  workers: number;
  logLevel: Environment['LOG_LEVEL'];
  database: DatabaseConfig;
  cache: CacheConfig;
  clientsFile: string;
  resourceServersFile: string;
  keyRotationCheckSeconds: number;
  keysDir: string;
  secrets: Secrets;
  shutdownTimeoutMs: number;
}

/** Thrown with one line per problem, so an operator can fix them all in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type EnvSource = Record<string, string | undefined>;

function readSecrets(env: Environment, problems: string[]): Secrets | undefined {
  const provided = [env.DATA_ENCRYPTION_KEYS, env.BLIND_INDEX_KEY, env.COOKIE_KEYS];
  const useDev = provided.every((value) => value === undefined) && env.NODE_ENV !== 'production';
  try {
    if (useDev) {
      const dev = loadOrCreateDevSecrets(resolve(env.KEYS_DIR));
      return {
        dataKeys: parseDataKeys(dev.dataKey),
        blindIndexKey: parseBlindIndexKey(dev.blindIndexKey),
        cookieKeys: parseCookieKeys(dev.cookieKey),
        generated: true,
      };
    }
    const missing = (['DATA_ENCRYPTION_KEYS', 'BLIND_INDEX_KEY', 'COOKIE_KEYS'] as const).filter((name) => env[name] === undefined);
    if (missing.length > 0) {
      for (const name of missing) problems.push(`${name}: required${env.NODE_ENV === 'production' ? ' in production' : ' when any of DATA_ENCRYPTION_KEYS, BLIND_INDEX_KEY, COOKIE_KEYS is set'}`);
      return undefined;
    }
    return {
      dataKeys: parseDataKeys(env.DATA_ENCRYPTION_KEYS!),
      blindIndexKey: parseBlindIndexKey(env.BLIND_INDEX_KEY!),
      cookieKeys: parseCookieKeys(env.COOKIE_KEYS!),
      generated: false,
    };
  } catch (error) {
    if (error instanceof SecretFormatError) {
      problems.push(error.message);
      return undefined;
    }
    throw error;
  }
}

/** Production must never run on conveniences meant for a laptop. */
function productionProblems(env: Environment, issuer: string): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!env.DATABASE_URL) problems.push('DATABASE_URL: required in production (the embedded database is for development only)');
  if (!env.REDIS_URL) problems.push('REDIS_URL: required in production (the in-process cache is for development only)');
  if (!issuer.startsWith('https://')) problems.push('ISSUER: must be an https:// URL in production');
  return problems;
}

/** The only place that reads the process environment. */
export function loadConfig(source: EnvSource = process.env): Config {
  const parsed = environmentSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  const issuer = env.ISSUER ?? `http://localhost:${env.PORT}`;
  problems.push(...productionProblems(env, issuer));
  if (env.WORKERS > 1 && (!env.DATABASE_URL || !env.REDIS_URL)) {
    problems.push('WORKERS: more than one worker needs DATABASE_URL and REDIS_URL (embedded stores live inside one process)');
  }
  const secrets = readSecrets(env, problems);
  if (problems.length > 0 || !secrets) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    issuer,
    trustProxy: env.TRUST_PROXY,
    workers: env.WORKERS,
    logLevel: env.LOG_LEVEL,
    database: env.DATABASE_URL
      ? { kind: 'postgres', url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, poolSize: env.DATABASE_POOL_SIZE }
      : { kind: 'pglite', dataDir: resolve(env.DATA_DIR), schema: env.DATABASE_SCHEMA },
    cache: env.REDIS_URL
      ? { kind: 'redis', url: env.REDIS_URL, prefix: env.REDIS_PREFIX }
      : { kind: 'memory', prefix: env.REDIS_PREFIX },
    clientsFile: resolve(env.CLIENTS_FILE),
    resourceServersFile: resolve(env.RESOURCE_SERVERS_FILE),
    keyRotationCheckSeconds: env.KEY_ROTATION_CHECK_SECONDS,
    keysDir: resolve(env.KEYS_DIR),
    secrets,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}
