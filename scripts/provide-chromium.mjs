// Before the test suite: make sure the browser tests have a Chromium to drive. They use
// Debian's package (DESIGN.md section 7); on a machine without it, running as root, this
// installs it, so `npm test` needs no step of its own on a fresh machine. CHROMIUM_PATH
// names another binary and is then only checked.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wanted = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (existsSync(wanted)) process.exit(0);

function fail(message) {
  console.error(`Chromium is needed by the browser tests and was not found at ${wanted}.\n${message}`);
  process.exit(1);
}

if (process.env.CHROMIUM_PATH) fail('CHROMIUM_PATH names a file that does not exist.');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !existsSync('/usr/bin/apt-get')) {
  fail('Install it with `sudo apt-get install -y chromium` (Debian or Ubuntu), or set CHROMIUM_PATH to a Chromium binary.');
}

console.log('Installing Debian\'s chromium for the browser tests (once per machine)…');
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium']]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) fail(`\`apt-get ${args.join(' ')}\` failed (exit ${result.status}).`);
}
if (!existsSync(wanted)) fail('apt-get finished but the binary is not there.');
