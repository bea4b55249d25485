import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A fresh PGlite directory costs an initdb of two to three seconds of CPU, and under a
 * loaded machine that is where "PGlite failed to initialize" came from. Instead, one empty,
 * cleanly closed PGlite directory is made once per machine and PGlite version, and every
 * test that runs on the embedded database starts from a copy of it (tens of milliseconds).
 */
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

const templateDir = join(tmpdir(), `civic-idp-pglite-template-${pgliteVersion}`);

/** Makes the template if this machine has none yet; safe when several test processes race. */
export async function ensurePgliteTemplate(): Promise<string> {
  if (existsSync(templateDir)) return templateDir;
  const staging = mkdtempSync(join(tmpdir(), 'civic-idp-pglite-staging-'));
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const client = new PGlite(join(staging, 'pglite'));
    await client.waitReady;
    await client.close();
    // rename is atomic: the first process to finish publishes its copy, the others' fail
    // because the target exists, and they use the published one.
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

/** Lays an empty PGlite database at `directory` from the template (made first if need be). */
export function copyPgliteTemplate(directory: string): void {
  if (!existsSync(templateDir)) throw new Error('the PGlite template is made by test/helpers/setup.ts before any test runs');
  cpSync(templateDir, directory, { recursive: true });
}
