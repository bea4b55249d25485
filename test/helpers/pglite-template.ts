import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * A fresh PGlite directory costs an initdb of two to three seconds of CPU, and its
 * migrations another second in a new process; under a loaded machine that is where "PGlite
 * failed to initialize" came from. Instead, one cleanly closed PGlite directory, already
 * migrated into the schema every embedded test database uses, is made once per machine,
 * PGlite version and set of migrations, with its image (an uncompressed tarball) beside it.
 * A server with stores of its own runs its database in memory from the image (nothing
 * copied to disk or deleted afterwards: half the CPU of a start); stores that outlive a
 * server (restart tests) start from a copy of the directory. Either way the server's own
 * migration run then finds nothing to do.
 */

/** The schema of every embedded test database: each is a PGlite directory of its own, so the name need not differ. */
export const EMBEDDED_TEST_SCHEMA = 'civic_test';

const MIGRATIONS_DIR = resolve('src/store/migrations');

/** Changes whenever a migration is added or edited, so that a template never lacks one. */
function migrationsDigest(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS_DIR).sort()) hash.update(name).update(readFileSync(join(MIGRATIONS_DIR, name)));
  return hash.digest('hex').slice(0, 12);
}

function installedPgliteVersion(): string {
  // The package exports no ./package.json, so walk up from its entry point to find it.
  let directory = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (directory !== dirname(directory)) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string };
      if (name === '@electric-sql/pglite') return version;
    }
    directory = dirname(directory);
  }
  throw new Error('cannot find the installed @electric-sql/pglite version');
}

const pgliteVersion = installedPgliteVersion();

const TEMPLATE_PREFIX = `civic-idp-pglite-template-${pgliteVersion}-`;
const templateDir = join(tmpdir(), `${TEMPLATE_PREFIX}${migrationsDigest()}`);
const templateImage = `${templateDir}.tar`;

/** Makes the template if this machine has none yet; safe when several test processes race. */
export async function ensurePgliteTemplate(): Promise<string> {
  if (existsSync(templateDir) && existsSync(templateImage)) return templateDir;
  const staging = mkdtempSync(join(tmpdir(), 'civic-idp-pglite-staging-'));
  try {
    const { openDatabase } = await import('../../src/store/db.js');
    const database = await openDatabase({ kind: 'pglite', dataDir: staging, schema: EMBEDDED_TEST_SCHEMA });
    try {
      await database.migrate('up');
    } finally {
      await database.close();
    }
    const { PGlite } = await import('@electric-sql/pglite');
    const reopened = new PGlite(join(staging, 'pglite'));
    try {
      await reopened.waitReady;
      writeFileSync(join(staging, 'image.tar'), Buffer.from(await (await reopened.dumpDataDir('none')).arrayBuffer()));
    } finally {
      await reopened.close();
    }
    // rename is atomic: the image is replaced by an equal one if two processes race; the
    // first process to publish its directory wins, the others' fail because the target
    // exists, and they use the published one. The image goes first, the directory (whose
    // presence is checked first above) last.
    renameSync(join(staging, 'image.tar'), templateImage);
    try {
      renameSync(join(staging, 'pglite'), templateDir);
    } catch (error) {
      if (!existsSync(templateDir)) throw error;
    }
    return templateDir;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

let image: Blob | undefined;

/** The migrated database's image, to run in memory (read once per process). */
export function pgliteImage(): Blob {
  if (!existsSync(templateImage)) throw new Error('the PGlite template is made by test/helpers/setup.ts before any test runs');
  image ??= new Blob([readFileSync(templateImage)]);
  return image;
}

/** Lays a migrated PGlite database at `directory` from the template (made first by setup.ts). */
export function copyPgliteTemplate(directory: string): void {
  if (!existsSync(templateDir)) throw new Error('the PGlite template is made by test/helpers/setup.ts before any test runs');
  cpSync(templateDir, directory, { recursive: true });
}
