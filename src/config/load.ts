import { existsSync, readFileSync } from 'node:fs';
import type { BlockList } from 'node:net';
import { resolve } from 'node:path';
import { parseNetworks } from './networks.js';
import { environmentSchema, type Environment } from './schema.js';
import {
  loadOrCreateDevSecrets, parseBlindIndexKey, parseCookieKeys, parseDataKeys, SecretFormatError, type Secrets,
} from './secrets.js';

export type DatabaseConfig =
  // `url` may name several hosts (postgres-url.ts).
  | { kind: 'postgres'; url: string; schema: string; poolSize: number; timeouts?: DatabaseTimeouts }
  | {
    kind: 'pglite';
    dataDir: string;
    schema: string;
    /**
     * Never from the environment: a data directory image (PGlite's dumpDataDir) to run in
     * memory instead of `dataDir`, which is then neither read nor written. The tests start
     * hundreds of short-lived servers from one migrated image this way.
     */
    memoryImage?: Blob;
  };

export type CacheConfig =
  // `url` names one server, a Redis Cluster or a Sentinel set-up (redis-url.ts).
  | { kind: 'redis'; url: string; prefix: string; timeouts?: CacheTimeouts }
  | { kind: 'memory'; prefix: string };

/** Bounds on waiting for PostgreSQL; unset (tests, tools): the driver's own, which wait indefinitely. */
export interface DatabaseTimeouts {
  connectMs: number;
  statementMs: number;
}

/** Bounds on waiting for Redis; unset (tests, tools): ioredis' own. */
export interface CacheTimeouts {
  connectMs: number;
  commandMs: number;
}

export type RegistriesConfig =
  | { kind: 'simulator'; fixturesFile: string }
  | { kind: 'http'; baseUrl: string; apiToken?: string; timeoutMs: number };

export type SmsConfig =
  | { kind: 'outbox'; file: string }
  | { kind: 'http'; url: string; apiToken?: string };

export type WechatConfig =
  | { kind: 'off' }
  | { kind: 'simulator'; fixturesFile: string }
  | { kind: 'http'; appId: string; appSecret: string; baseUrl: string; timeoutMs: number };

export interface SiteIdentity {
  /** 主办单位; empty: not shown. */
  operator: string;
  /** 网站标识码; empty: not shown. */
  idCode: string;
  /** ICP 备案号; empty: not shown. */
  icpRecord: string;
  /** The helpline every dead end points to (12345 政务服务便民热线 by default). */
  helpline: string;
  /** Where "home" leads from a page that ends a journey: the portal, or the account centre. */
  homeUrl: string;
  /** The government app's link that opens a QR login on the same phone; unset: not offered. */
  appOpenUrl?: string;
}

export interface SmsPolicy {
  codeTtlSeconds: number;
  maxAttempts: number;
  perMinute: number;
  perHour: number;
  perDay: number;
  perIpPerHour: number;
  captchaAfterSendsPerIp: number;
}

export interface RealNamePolicy {
  /** Wrong answers one flow may give; then it must be started again. */
  failuresPerFlow: number;
  /** Wrong answers about one ID number, whoever gives them, per day. */
  failuresPerIdNumberPerDay: number;
  /** Wrong answers from one address per hour. */
  failuresPerIpPerHour: number;
  /** Wrong answers (from one address, or about one ID number) before every further check needs a captcha. */
  captchaAfterFailures: number;
}

export interface LoginPolicy {
  lockThreshold: number;
  /** Failures after which a password sign-in needs a captcha first. */
  captchaAfterFailures: number;
  lockMinutes: number;
  ipLimitPerHour: number;
}

export interface Config {
  env: Environment['NODE_ENV'];
  port: number;
  issuer: string;
  trustProxy: boolean;
  /** Right-most X-Forwarded-For entries believed when trustProxy is on (one per proxy hop). */
  trustProxyHops: number;
  /** The staff listener's port (the console, its API and /metrics only); unset: the public port serves them. */
  adminPort?: number;
  /** The networks the console answers to; unset: any. */
  adminAllowedNetworks?: BlockList;
  workers: number;
  logLevel: Environment['LOG_LEVEL'];
  /** Page templates read and compiled at every render: for editing them on a laptop. */
  templateReload: boolean;
  database: DatabaseConfig;
  cache: CacheConfig;
  /** Retry-After (seconds) on the 503 a store outage causes. */
  storeRetryAfterSeconds: number;
  clientsFile: string;
  resourceServersFile: string;
  keyRotationCheckSeconds: number;
  /** A rotated refresh token is answered again, with the same successor, for this long (oidc/refresh-rotation.ts). */
  refreshTokenReuseSeconds: number;
  /** How soon logins an act left to end are retried after a store fault, and how often every instance looks. */
  logoutRetrySeconds: number;
  keysDir: string;
  secrets: Secrets;
  shutdownTimeoutMs: number;
  registries: RegistriesConfig;
  sms: SmsConfig;
  smsPolicy: SmsPolicy;
  loginPolicy: LoginPolicy;
  realNamePolicy: RealNamePolicy;
  agreementVersion: string;
  /** Who runs the site, its registration numbers and helpline, and where "home" is: shown on every citizen page. */
  site: SiteIdentity;
  /** The service hall (办理地点) printed on counter hand-over sheets; empty: left as a line to fill in by hand. */
  serviceHall: string;
  /** Enterprise-account login (USCC + password + SMS) offered at all; each client must allow it too. */
  enterpriseAccountLogin: boolean;
  /** Upstream identity providers offered on the login page (federation); none when unset. */
  upstreamIdpsFile?: string;
  /** The SSO session: ends after `idleSeconds` without use, and `maxSeconds` after the login at the latest. */
  session: { idleSeconds: number; maxSeconds: number };
  /** Back-channel logout deliveries that fail are retried this many times, waiting `retryDelayMs`, then twice as long each time. */
  backchannelLogout: { retries: number; retryDelayMs: number };
  /** Hosts on loopback or private networks the provider may call (back-channel logout, jwks_uri). */
  outboundPrivateHosts: string[];
  /** Audit records older than this many days (never fewer than 180) are purged daily. */
  auditRetentionDays: number;
  /** A staff password older than this many days must be changed at the next sign-in. */
  staffPasswordMaxAgeDays: number;
  wechat: WechatConfig;
}

/**
 * Development and test defaults live in config/<NODE_ENV>.json (for example: the registry
 * simulator and the SMS outbox), so choosing a simulator is always an explicit, visible
 * setting. Production has no such file. The process environment wins over the file.
 */
function environmentDefaults(source: EnvSource): Record<string, string> {
  const nodeEnv = source.NODE_ENV ?? 'development';
  if (!/^(development|test)$/.test(nodeEnv)) return {};
  const file = resolve('config', `${nodeEnv}.json`);
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
}

function readRegistries(env: Environment, problems: string[]): RegistriesConfig | undefined {
  if (env.REGISTRIES === 'simulator') {
    if (!env.REGISTRY_FIXTURES) problems.push('REGISTRY_FIXTURES: required when REGISTRIES=simulator');
    return env.REGISTRY_FIXTURES ? { kind: 'simulator', fixturesFile: resolve(env.REGISTRY_FIXTURES) } : undefined;
  }
  if (env.REGISTRIES === 'http') {
    if (!env.REGISTRY_BASE_URL) problems.push('REGISTRY_BASE_URL: required when REGISTRIES=http');
    return env.REGISTRY_BASE_URL
      ? { kind: 'http', baseUrl: env.REGISTRY_BASE_URL, apiToken: env.REGISTRY_API_TOKEN, timeoutMs: env.REGISTRY_TIMEOUT_MS }
      : undefined;
  }
  problems.push('REGISTRIES: required (simulator or http)');
  return undefined;
}

function readSms(env: Environment, problems: string[]): SmsConfig | undefined {
  if (env.SMS_GATEWAY === 'outbox') {
    if (!env.SMS_OUTBOX) problems.push('SMS_OUTBOX: required when SMS_GATEWAY=outbox');
    return env.SMS_OUTBOX ? { kind: 'outbox', file: resolve(env.SMS_OUTBOX) } : undefined;
  }
  if (env.SMS_GATEWAY === 'http') {
    if (!env.SMS_GATEWAY_URL) problems.push('SMS_GATEWAY_URL: required when SMS_GATEWAY=http');
    return env.SMS_GATEWAY_URL ? { kind: 'http', url: env.SMS_GATEWAY_URL, apiToken: env.SMS_API_TOKEN } : undefined;
  }
  problems.push('SMS_GATEWAY: required (outbox or http)');
  return undefined;
}

function readWechat(env: Environment, problems: string[]): WechatConfig {
  if (env.WECHAT === 'simulator') {
    if (!env.WECHAT_FIXTURES) problems.push('WECHAT_FIXTURES: required when WECHAT=simulator');
    return { kind: 'simulator', fixturesFile: resolve(env.WECHAT_FIXTURES ?? '') };
  }
  if (env.WECHAT === 'http') {
    if (!env.WECHAT_APP_ID) problems.push('WECHAT_APP_ID: required when WECHAT=http');
    if (!env.WECHAT_APP_SECRET) problems.push('WECHAT_APP_SECRET: required when WECHAT=http');
    return { kind: 'http', appId: env.WECHAT_APP_ID ?? '', appSecret: env.WECHAT_APP_SECRET ?? '', baseUrl: env.WECHAT_BASE_URL, timeoutMs: env.WECHAT_TIMEOUT_MS };
  }
  return { kind: 'off' };
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

function readNetworks(value: string | undefined, name: string, problems: string[]): BlockList | undefined {
  if (value === undefined) return undefined;
  try {
    return parseNetworks(value);
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
    return undefined;
  }
}

/** Production must never run on conveniences meant for a laptop. */
function productionProblems(env: Environment, issuer: string, sourceHas: (name: string) => boolean): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!env.DATABASE_URL) problems.push('DATABASE_URL: required in production (the embedded database is for development only)');
  if (!env.REDIS_URL) problems.push('REDIS_URL: required in production (the in-process cache is for development only)');
  if (!issuer.startsWith('https://')) problems.push('ISSUER: must be an https:// URL in production');
  if (env.REGISTRIES === 'simulator') problems.push('REGISTRIES: the simulator is refused in production (use http)');
  if (env.SMS_GATEWAY === 'outbox') problems.push('SMS_GATEWAY: the outbox is refused in production (use http)');
  if (env.WECHAT === 'simulator') problems.push('WECHAT: the simulator is refused in production (use http, or off)');
  if (!sourceHas('CLIENTS_FILE')) problems.push('CLIENTS_FILE: required in production (the bundled file holds example clients with a published secret)');
  return problems;
}

/** The only place that reads the process environment. */
export function loadConfig(source: EnvSource = process.env): Config {
  const parsed = environmentSchema.safeParse({ ...environmentDefaults(source), ...source });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  const issuer = env.ISSUER ?? `http://localhost:${env.PORT}`;
  problems.push(...productionProblems(env, issuer, (name) => source[name] !== undefined));
  if (env.WORKERS > 1 && (!env.DATABASE_URL || !env.REDIS_URL)) {
    problems.push('WORKERS: more than one worker needs DATABASE_URL and REDIS_URL (embedded stores live inside one process)');
  }
  const secrets = readSecrets(env, problems);
  const registries = readRegistries(env, problems);
  const adminNetworks = readNetworks(env.ADMIN_ALLOWED_NETWORKS, 'ADMIN_ALLOWED_NETWORKS', problems);
  if (env.ADMIN_PORT !== undefined && env.ADMIN_PORT === env.PORT) problems.push('ADMIN_PORT: must differ from PORT');
  const sms = readSms(env, problems);
  const wechat = readWechat(env, problems);
  if (problems.length > 0 || !secrets || !registries || !sms) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    issuer,
    trustProxy: env.TRUST_PROXY,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    ...(env.ADMIN_PORT !== undefined ? { adminPort: env.ADMIN_PORT } : {}),
    ...(adminNetworks ? { adminAllowedNetworks: adminNetworks } : {}),
    workers: env.WORKERS,
    logLevel: env.LOG_LEVEL,
    templateReload: (env.TEMPLATE_RELOAD ?? (env.NODE_ENV === 'development' ? 'on' : 'off')) === 'on',
    database: env.DATABASE_URL
      ? {
        kind: 'postgres', url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, poolSize: env.DATABASE_POOL_SIZE,
        timeouts: { connectMs: env.DATABASE_CONNECT_TIMEOUT_MS, statementMs: env.DATABASE_STATEMENT_TIMEOUT_MS },
      }
      : { kind: 'pglite', dataDir: resolve(env.DATA_DIR), schema: env.DATABASE_SCHEMA },
    cache: env.REDIS_URL
      ? { kind: 'redis', url: env.REDIS_URL, prefix: env.REDIS_PREFIX, timeouts: { connectMs: env.REDIS_CONNECT_TIMEOUT_MS, commandMs: env.REDIS_COMMAND_TIMEOUT_MS } }
      : { kind: 'memory', prefix: env.REDIS_PREFIX },
    storeRetryAfterSeconds: env.STORE_RETRY_AFTER_SECONDS,
    clientsFile: resolve(env.CLIENTS_FILE),
    resourceServersFile: resolve(env.RESOURCE_SERVERS_FILE),
    keyRotationCheckSeconds: env.KEY_ROTATION_CHECK_SECONDS,
    refreshTokenReuseSeconds: env.REFRESH_TOKEN_REUSE_SECONDS,
    logoutRetrySeconds: env.LOGOUT_RETRY_SECONDS,
    keysDir: resolve(env.KEYS_DIR),
    secrets,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    registries,
    sms,
    smsPolicy: {
      codeTtlSeconds: env.SMS_CODE_TTL_SECONDS,
      maxAttempts: env.SMS_CODE_MAX_ATTEMPTS,
      perMinute: env.SMS_LIMIT_PER_MINUTE,
      perHour: env.SMS_LIMIT_PER_HOUR,
      perDay: env.SMS_LIMIT_PER_DAY,
      perIpPerHour: env.SMS_LIMIT_PER_IP_PER_HOUR,
      captchaAfterSendsPerIp: env.CAPTCHA_AFTER_SENDS_PER_IP,
    },
    loginPolicy: {
      lockThreshold: env.LOGIN_LOCK_THRESHOLD,
      captchaAfterFailures: env.LOGIN_CAPTCHA_AFTER_FAILURES,
      lockMinutes: env.LOGIN_LOCK_MINUTES,
      ipLimitPerHour: env.LOGIN_IP_LIMIT_PER_HOUR,
    },
    realNamePolicy: {
      failuresPerFlow: env.REALNAME_FAILURES_PER_FLOW,
      failuresPerIdNumberPerDay: env.REALNAME_FAILURES_PER_ID_PER_DAY,
      failuresPerIpPerHour: env.REALNAME_FAILURES_PER_IP_PER_HOUR,
      captchaAfterFailures: env.REALNAME_CAPTCHA_AFTER_FAILURES,
    },
    agreementVersion: env.SERVICE_AGREEMENT_VERSION,
    serviceHall: env.SERVICE_HALL,
    site: {
      operator: env.SITE_OPERATOR, idCode: env.SITE_ID_CODE, icpRecord: env.SITE_ICP_RECORD,
      helpline: env.SITE_HELPLINE, homeUrl: env.SITE_HOME_URL ?? '/account',
      ...(env.APP_OPEN_URL ? { appOpenUrl: env.APP_OPEN_URL } : {}),
    },
    enterpriseAccountLogin: env.ENTERPRISE_ACCOUNT_LOGIN === 'on',
    ...(env.UPSTREAM_IDPS_FILE ? { upstreamIdpsFile: resolve(env.UPSTREAM_IDPS_FILE) } : {}),
    session: { idleSeconds: env.SESSION_IDLE_MINUTES * 60, maxSeconds: env.SESSION_MAX_HOURS * 3600 },
    backchannelLogout: { retries: env.BACKCHANNEL_LOGOUT_RETRIES, retryDelayMs: env.BACKCHANNEL_LOGOUT_RETRY_MS },
    outboundPrivateHosts: env.OUTBOUND_PRIVATE_HOSTS.split(',').map((host) => host.trim()).filter(Boolean),
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    staffPasswordMaxAgeDays: env.STAFF_PASSWORD_MAX_AGE_DAYS,
    wechat,
  };
}
