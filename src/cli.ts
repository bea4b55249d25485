import { parseArgs } from 'node:util';
import type { ClientMetadata } from 'oidc-provider';
import { ConfigError, loadConfig } from './config/load.js';
import { buildDependencies, type Dependencies } from './deps.js';
import { AppError } from './errors.js';
import { openDatabase } from './store/db.js';
import { createLogger } from './log.js';
import { ClientRegistry, ClientsFileError } from './oidc/clients.js';
import { LONGEST_SIGNED_TOKEN_SECONDS } from './oidc/configuration/ttl.js';
import { readResourceServers } from './oidc/resource-servers.js';
import { STAFF_ROLES, type StaffRole } from './staff/roles.js';

/** Operator commands: `npm run cli -- <command> [options]`. */
type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;
type Args = { values: Record<string, unknown>; positionals: string[] };

interface Command {
  summary: string;
  usage: string;
  options?: Options;
  /** Runs with the stores migrated and the provider built, but without importing CLIENTS_FILE. */
  run(deps: Dependencies, args: Args): Promise<string>;
}

/** Works on the database alone, before anything else can be built on it. */
async function migrate(config: ReturnType<typeof loadConfig>, args: Args): Promise<string> {
  const database = await openDatabase(config.database);
  try {
    const result = await database.migrate(args.values.down ? 'down' : 'up');
    const applied = (result.results ?? []).map((r) => `${r.direction.toLowerCase()} ${r.migrationName}: ${r.status}`);
    return applied.length > 0 ? applied.join('\n') : 'database is up to date';
  } finally {
    await database.close();
  }
}

const COMMANDS: Record<string, Command> = {
  'clients:import': {
    summary: 'insert or update the clients in a CLIENTS_FILE-format JSON file',
    usage: 'clients:import FILE',
    async run(deps, { positionals }) {
      const file = positionals[0];
      if (!file) throw new UsageError('clients:import needs a FILE');
      const entries = await ClientRegistry.readFile(file);
      await deps.clients.upsert(entries, (metadata) => deps.providers.current.Client.validate(metadata as ClientMetadata));
      return `imported ${entries.length} client(s): ${entries.map((e) => e.client_id).join(', ')}`;
    },
  },
  'keys:rotate': {
    summary: 'add new signing keys; old ones stay published until the tokens they signed expire',
    usage: 'keys:rotate [--activate-in SECONDS]',
    options: { 'activate-in': { type: 'string' } },
    async run(deps, { values }) {
      const fallback = 2 * deps.config.keyRotationCheckSeconds;
      const activationDelaySeconds = values['activate-in'] === undefined ? fallback : Number(values['activate-in']);
      if (!Number.isInteger(activationDelaySeconds) || activationDelaySeconds < 0) throw new UsageError('--activate-in takes a whole number of seconds');
      // JWT access tokens for APIs may live longer than ID tokens: keep old keys until the longest expires.
      const apis = await readResourceServers(deps.config.resourceServersFile);
      const retainSeconds = Math.max(LONGEST_SIGNED_TOKEN_SECONDS, ...apis.map((api) => api.access_token_ttl + 5 * 60));
      const kids = await deps.signingKeys.rotate({ activationDelaySeconds, retainSeconds });
      return `new signing keys ${kids.join(', ')}: published now, signing in ${activationDelaySeconds}s; previous keys stay published ${retainSeconds}s longer`;
    },
  },
  'audit:verify': {
    summary: 'recompute the audit log hash chain; names the first broken record',
    usage: 'audit:verify',
    async run(deps) {
      const result = await deps.audit.verify();
      if (!result.ok) throw new AuditBrokenError(`audit log broken at record ${result.brokenAt} (${result.reason}); ${result.count} records before it verify`);
      return `audit log intact: ${result.count} records, head ${result.head}`;
    },
  },
  'staff:create': {
    summary: 'create a staff account (the first admin); prints its password and authenticator URI once. Roles of one power only: admin; agent or supervisor; auditor',
    usage: 'staff:create --username NAME --role ROLE [--role ROLE] [--name DISPLAY]',
    options: { username: { type: 'string' }, role: { type: 'string', multiple: true }, name: { type: 'string' } },
    async run(deps, { values }) {
      const username = values.username;
      const roles = values.role as string[] | undefined;
      if (typeof username !== 'string' || !roles?.length) throw new UsageError('staff:create needs --username and at least one --role');
      const unknown = roles.filter((role) => !(STAFF_ROLES as readonly string[]).includes(role));
      if (unknown.length > 0) throw new UsageError(`unknown role(s) ${unknown.join(', ')}; roles are ${STAFF_ROLES.join(', ')}`);
      const created = await deps.staff.accounts.create({ username, displayName: values.name as string | undefined, roles: roles as StaffRole[] }, { kind: 'system' }, {});
      return [
        `staff account ${created.username} (${created.roles.join(', ')}) created: ${created.id}`,
        `initial password (shown once): ${created.password}`,
        `authenticator (shown once; scan or type into an authenticator app):`,
        created.otpauthUri,
        ...(created.mustChange ? ['hand both over in person: at the first sign-in the holder must choose a new password and enrol a new authenticator, and these stop working'] : []),
      ].join('\n');
    },
  },
  'keys:list': {
    summary: 'list the published signing keys',
    usage: 'keys:list',
    async run(deps) {
      const rows = await deps.database.db.selectFrom('signing_keys').select(['kid', 'alg', 'created_at', 'activate_at', 'retire_after']).orderBy('created_at').execute();
      const now = new Date();
      const state = (r: (typeof rows)[number]) => {
        if (r.retire_after && r.retire_after <= now) return 'retired (unpublished, purged hourly)';
        if (r.activate_at > now) return `pending: signs from ${r.activate_at.toISOString()}`;
        return r.retire_after ? `published until ${r.retire_after.toISOString()}` : 'current';
      };
      return rows.map((r) => `${r.kid}\t${r.alg}\t${state(r)}`).join('\n');
    },
  },
  'enterprises:sync': {
    summary: 'check every enterprise against the business register; a new legal representative ends the old one\'s authority',
    usage: 'enterprises:sync',
    async run(deps) {
      const r = await deps.enterprises.syncAll();
      return `enterprises checked: ${r.checked}; representative changed: ${r.representativeChanged}; register status changed: ${r.statusChanged}; renamed: ${r.renamed}; not in the register: ${r.notInRegistry}; register unavailable: ${r.unavailable}`;
    },
  },
};

class UsageError extends Error {}
class AuditBrokenError extends Error {}

function help(): string {
  const lines = [
    `  ${'migrate [--down]'.padEnd(38)} apply database migrations (the server also does this at start-up)`,
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(38)} ${c.summary}`),
  ];
  return `usage: npm run cli -- <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'migrate') {
    const args = parseArgs({ args: rest, options: { down: { type: 'boolean' } }, allowPositionals: false, strict: true });
    process.stdout.write(`${await migrate(loadConfig(), args as Args)}\n`);
    return 0;
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(name && name !== 'help' && name !== '--help' ? `unknown command "${name}"\n\n${help()}` : help());
    return name && name !== 'help' && name !== '--help' ? 2 : 0;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const args = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
  const deps = await buildDependencies(config, logger, { importClients: false });
  try {
    process.stdout.write(`${await command.run(deps, args as Args)}\n`);
    return 0;
  } finally {
    await deps.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
  // A refusal by the domain (roles that break the separation of powers, a taken username) in both languages, with its code.
  if (error instanceof AppError) {
    process.stderr.write(`${error.code}: ${error.messageIn('zh-CN')}\n${error.code}: ${error.messageIn('en')}\n`);
    process.exit(1);
  }
  if (error instanceof ConfigError || error instanceof ClientsFileError || error instanceof UsageError || error instanceof AuditBrokenError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
  const message = (error as Error).message ?? String(error);
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
});
