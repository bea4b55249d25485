import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server.js';

export interface CompiledBuild {
  /** Where to run from: dist/, and views/, config/ and node_modules/ linked to the project's. */
  dir: string;
  script: string;
  cleanup(): void;
}

/**
 * The server as the Dockerfile runs it (the bench's default), `node dist/main.js`, built
 * with the project's tsconfig.build.json into a temporary directory (nothing is written to
 * the project). With `--tsx` the bench runs `node --import tsx src/main.ts`, like `npm start`.
 */
export function buildCompiled(warn: (message: string) => void): CompiledBuild {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-bench-build-'));
  try {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { stdio: 'pipe' });
    } catch (error) {
      // tsc emits despite type errors; run what it emitted, but say so.
      if (!existsSync(join(dir, 'dist/main.js'))) throw error;
      const output = String((error as { stdout?: Buffer }).stdout ?? '').trim().split('\n');
      warn(`tsc reported ${output.filter((line) => /error TS/.test(line)).length} type errors; running what it emitted (first: ${output[0] ?? ''})`);
    }
    for (const name of ['node_modules', 'views', 'config']) symlinkSync(join(ROOT, name), join(dir, name));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, script: 'dist/main.js', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
