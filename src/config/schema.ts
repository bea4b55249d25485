import { z } from 'zod';
import { parsePostgresUrl } from './postgres-url.js';
import { parseRedisUrl } from './redis-url.js';

/**
 * Every setting the process understands. Names are a contract with operators:
 * they are documented in README.md and must not change.
 */

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const positiveInt = z.coerce.number().int().positive();

/** A string its parser accepts; the parser's own words are the message. */
function parsedBy(parse: (value: string) => unknown) {
  return z.string().superRefine((value, context) => {
    try {
      parse(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });
}

const postgresUrl = parsedBy(parsePostgresUrl);
const redisUrl = parsedBy(parseRedisUrl);

const sqlIdentifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');

export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ISSUER: z.url({ protocol: /^https?$/ })
    .refine((value) => !/[?#]/.test(value), 'must have no query or fragment')
    .optional(),
  TRUST_PROXY: boolish.default(false),
  /** With TRUST_PROXY: how many proxies in front append to X-Forwarded-For; only that many right-most entries are believed. */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  /** A port of its own for the staff console, its API and /metrics, which the public port then does not serve. */
  ADMIN_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Networks (comma-separated CIDR or addresses) from which the console, its API and /metrics answer at all. */
  ADMIN_ALLOWED_NETWORKS: z.string().max(2000).optional(),
  WORKERS: positiveInt.max(64).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Read page templates again at every render (see load.ts for the default). */
  TEMPLATE_RELOAD: z.enum(['on', 'off']).optional(),

  DATABASE_URL: postgresUrl.optional(),
  DATABASE_SCHEMA: sqlIdentifier.default('public'),
  DATABASE_POOL_SIZE: positiveInt.max(200).default(10),
  /** How long a request waits for a database connection (a new one, or a free one from the pool). */
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.max(60_000).default(3_000),
  /** The database cancels a statement running longer than this (statement_timeout). */
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.max(600_000).default(10_000),
  DATA_DIR: z.string().min(1).default('./data'),

  REDIS_URL: redisUrl.optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/, 'letters, digits, ":", "_" and "-" only').default('civic:'),
  REDIS_CONNECT_TIMEOUT_MS: positiveInt.max(60_000).default(3_000),
  /** A Redis command without an answer after this long fails (the request answers 503). */
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.max(60_000).default(2_000),
  /** Retry-After on every 503 that a store outage causes. */
  STORE_RETRY_AFTER_SECONDS: positiveInt.max(3600).default(5),

  CLIENTS_FILE: z.string().min(1).default('./config/clients.json'),
  RESOURCE_SERVERS_FILE: z.string().min(1).default('./config/resource-servers.json'),
  KEY_ROTATION_CHECK_SECONDS: positiveInt.max(3600).default(30),
  /** How long after its rotation a refresh token is honoured once more (a lost answer, a duplicate request); 0: never. */
  REFRESH_TOKEN_REUSE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  LOGOUT_RETRY_SECONDS: z.coerce.number().int().min(1).max(600).default(15),
  /** A staff member's password must be changed at the first sign-in after this many days. */
  STAFF_PASSWORD_MAX_AGE_DAYS: positiveInt.max(366).default(90),

  KEYS_DIR: z.string().min(1).default('./keys'),
  DATA_ENCRYPTION_KEYS: z.string().min(1).optional(),
  BLIND_INDEX_KEY: z.string().min(1).optional(),
  COOKIE_KEYS: z.string().min(1).optional(),

  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),

  REGISTRIES: z.enum(['simulator', 'http']).optional(),
  REGISTRY_FIXTURES: z.string().min(1).optional(),
  REGISTRY_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  REGISTRY_API_TOKEN: z.string().min(1).optional(),
  REGISTRY_TIMEOUT_MS: positiveInt.max(60_000).default(3_000),

  SMS_GATEWAY: z.enum(['outbox', 'http']).optional(),
  SMS_OUTBOX: z.string().min(1).optional(),
  SMS_GATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMS_API_TOKEN: z.string().min(1).optional(),

  SMS_CODE_TTL_SECONDS: positiveInt.max(3600).default(300),
  SMS_CODE_MAX_ATTEMPTS: positiveInt.max(10).default(3),
  SMS_LIMIT_PER_MINUTE: positiveInt.default(1),
  SMS_LIMIT_PER_HOUR: positiveInt.default(5),
  SMS_LIMIT_PER_DAY: positiveInt.default(10),
  SMS_LIMIT_PER_IP_PER_HOUR: positiveInt.default(30),
  CAPTCHA_AFTER_SENDS_PER_IP: z.coerce.number().int().min(0).default(3),

  LOGIN_LOCK_THRESHOLD: positiveInt.max(1000).default(10),
  /** Failed sign-ins of one account (or one typed identifier) after which the password form needs an image captcha: before the lock. */
  LOGIN_CAPTCHA_AFTER_FAILURES: positiveInt.max(1000).default(5),
  LOGIN_LOCK_MINUTES: positiveInt.max(24 * 60).default(30),
  LOGIN_IP_LIMIT_PER_HOUR: positiveInt.default(200),

  /** Real-name checks (name against ID number, a card against a person) that may fail: per flow, per ID number a day, per address an hour. */
  REALNAME_FAILURES_PER_FLOW: positiveInt.max(100).default(5),
  REALNAME_FAILURES_PER_ID_PER_DAY: positiveInt.max(1000).default(10),
  REALNAME_FAILURES_PER_IP_PER_HOUR: positiveInt.default(20),
  /** Failed real-name checks (from one address, or about one ID number) after which every further check needs an image captcha. */
  REALNAME_CAPTCHA_AFTER_FAILURES: z.coerce.number().int().min(0).default(2),

  SERVICE_AGREEMENT_VERSION: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/).default('2026-01'),
  // The site's identity in every citizen page's footer, as government websites must show it.
  SITE_OPERATOR: z.string().trim().max(100).default(''),
  SITE_ID_CODE: z.string().trim().max(40).default(''),
  SITE_ICP_RECORD: z.string().trim().max(60).default(''),
  SITE_HELPLINE: z.string().trim().regex(/^[0-9 +()-]{3,30}$/).default('12345'),
  SITE_HOME_URL: z.string().trim().regex(/^(https?:\/\/|\/)/).max(300).optional(),
  // Where this deployment's counters are, printed on every hand-over sheet; empty: a line to fill in by hand.
  SERVICE_HALL: z.string().trim().max(100).default(''),
  // The government app's link that takes a QR login's payload (a universal link or the app's own scheme).
  APP_OPEN_URL: z.string().trim().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i).max(300).optional(),
  ENTERPRISE_ACCOUNT_LOGIN: z.enum(['on', 'off']).default('off'),

  UPSTREAM_IDPS_FILE: z.string().min(1).optional(),

  SESSION_IDLE_MINUTES: positiveInt.max(24 * 60).default(30),
  SESSION_MAX_HOURS: positiveInt.max(30 * 24).default(12),
  BACKCHANNEL_LOGOUT_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  BACKCHANNEL_LOGOUT_RETRY_MS: positiveInt.max(10 * 60_000).default(5_000),
  OUTBOUND_PRIVATE_HOSTS: z.string().regex(/^[A-Za-z0-9.:,\[\]-]*$/, 'comma-separated host names or IP addresses').default(''),

  /** GB/T 22239 level 3 keeps audit records at least six months; the database refuses less too. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(180, 'audit records are kept at least 180 days').max(36_500).default(180),

  WECHAT: z.enum(['off', 'simulator', 'http']).default('off'),
  WECHAT_FIXTURES: z.string().min(1).optional(),
  WECHAT_APP_ID: z.string().regex(/^wx[0-9a-f]{16}$/, 'must look like a mini-program AppID: wx and 16 hex digits').optional(),
  WECHAT_APP_SECRET: z.string().min(16).optional(),
  WECHAT_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.weixin.qq.com'),
  WECHAT_TIMEOUT_MS: positiveInt.max(60_000).default(3_000),
});

export type Environment = z.infer<typeof environmentSchema>;
