import { z } from 'zod';

/**
 * Every setting the process understands. Names are a contract with operators:
 * they are documented in README.md and must not change.
 */

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const positiveInt = z.coerce.number().int().positive();

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL');

const redisUrl = z
  .string()
  .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// or rediss:// URL');

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
  WORKERS: positiveInt.max(64).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: postgresUrl.optional(),
  DATABASE_SCHEMA: sqlIdentifier.default('public'),
  DATABASE_POOL_SIZE: positiveInt.max(200).default(10),
  DATA_DIR: z.string().min(1).default('./data'),

  REDIS_URL: redisUrl.optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/, 'letters, digits, ":", "_" and "-" only').default('civic:'),

  CLIENTS_FILE: z.string().min(1).default('./config/clients.json'),
  RESOURCE_SERVERS_FILE: z.string().min(1).default('./config/resource-servers.json'),
  KEY_ROTATION_CHECK_SECONDS: positiveInt.max(3600).default(30),

  KEYS_DIR: z.string().min(1).default('./keys'),
  DATA_ENCRYPTION_KEYS: z.string().min(1).optional(),
  BLIND_INDEX_KEY: z.string().min(1).optional(),
  COOKIE_KEYS: z.string().min(1).optional(),

  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
});

export type Environment = z.infer<typeof environmentSchema>;
