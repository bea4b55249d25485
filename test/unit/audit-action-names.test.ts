import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { en } from '../../src/i18n/en.js';
import { zhCN } from '../../src/i18n/zh-CN.js';
import type { ApprovalKind } from '../../src/store/schema.js';

/**
 * The audit viewer shows each record's action by its name in the catalogues (`audit.<action>`),
 * never by its code: every action the code writes must have one, in both languages.
 */

const ACTION = String.raw`'([a-z_]+(?:\.[a-z_]+)*)'`;
const WRITTEN = [
  new RegExp(String.raw`\baction: ${ACTION}`, 'g'),
  new RegExp(String.raw`\baction: [^,\n]*?\? ${ACTION} : ${ACTION}`, 'g'),
  new RegExp(String.raw`\b(?:ACTION|action) = ${ACTION}`, 'g'),
  // The action handed to the helpers that write refusals and acts (a dotted literal).
  new RegExp(String.raw`\b(?:authorize|refuse|auditRefusals|refusingAudited|found|inPerson|take|failed|checkCurrentCode|act|record)\((?:[^;'\x60]|'[a-z_]+')*?'([a-z_]+\.[a-z_.]+)'`, 'g'),
];
const KINDS: ApprovalKind[] = ['account.unban', 'enterprise.restore', 'staff.grant_admin', 'staff.enable'];
/** Actions made from a template (`delegation.${action}`, `approval.${decision}` …). */
const TEMPLATED = [
  'approval.approve', 'approval.reject', ...KINDS.map((kind) => `approval.request.${kind}`), 'account.register.counter.start', 'account.phone_change.start',
  'delegation.grant', 'delegation.approve', 'delegation.change', 'delegation.cancel',
  'enterprise.application.approve', 'enterprise.application.reject', 'enterprise.application.withdraw',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'i18n' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function writtenActions(): Set<string> {
  const found = new Set(TEMPLATED);
  for (const file of sources('src')) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of WRITTEN) for (const match of text.matchAll(pattern)) for (const action of match.slice(1)) if (action) found.add(action);
  }
  // A record's id field is never an action.
  found.delete('_interaction');
  return found;
}

test('every action the code audits has a name in zh-CN and in en', (t) => {
  const actions = [...writtenActions()].sort();
  t.true(actions.length > 90, `found only ${actions.length} actions: the patterns above no longer see them`);
  for (const name of ['staff.disable', 'staff.role_withdraw', 'account.register.counter', 'approval.request.staff.enable']) t.true(actions.includes(name), name);
  const missing = actions.filter((action) => !(`audit.${action}` in zhCN) || !(`audit.${action}` in en));
  t.deepEqual(missing, []);
});
