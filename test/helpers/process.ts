import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * Node's arguments for one of the project's entry points: the compiled module of the same
 * tree as this helper when the tests run compiled (build/, see package.json "ava"), the
 * TypeScript source through tsx otherwise.
 */
export function entryArguments(entry: 'src/main.ts' | 'src/cli.ts'): string[] {
  if (!import.meta.url.endsWith('.js')) return ['--import', 'tsx', entry];
  return [fileURLToPath(new URL(`../../${entry.replace(/\.ts$/, '.js')}`, import.meta.url))];
}

/** The real entry point (src/main.ts) as an operator starts it, with only the given environment. */
export function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, entryArguments('src/main.ts'), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exitCode: number | null | undefined;
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = once(child, 'exit').then(([code]) => (exitCode = code as number | null));
  return {
    child,
    exited,
    /** Undefined while it runs. */
    exitCode: () => exitCode,
    output: () => ({ stdout, stderr }),
  };
}

export async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The operator CLI (src/cli.ts) with the given environment on top of this one; resolves when it exits. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entryArguments('src/cli.ts'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
