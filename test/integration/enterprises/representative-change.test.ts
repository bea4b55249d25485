import { runCli } from '../../helpers/process.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { GENEROUS_SMS, latestCode, otherCode } from '../../helpers/account-centre.js';
import { ENTERPRISES, PERSONS, auditOf, citizen, registerAsRepresentative, signedIn } from '../../helpers/enterprises.js';
import { PASSWORD } from '../../helpers/accounts.js';
import { sharedStoresEnv } from '../../helpers/env.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * The register names a new legal representative: 陈伟 for 张三's company (found by
 * `enterprises:sync`), 林建华 for 李娜's shop (found when he registers it).
 */
function changedRegister(dir: string): string {
  const fixtures = JSON.parse(readFileSync('config/fixtures/registries.example.json', 'utf8')) as { enterprises: Array<{ uscc: string; legalRepresentative: unknown }> };
  for (const entry of fixtures.enterprises) {
    if (entry.uscc === ENTERPRISES.fuzhouTech.uscc) entry.legalRepresentative = { name: PERSONS.chenWei.name, idNumber: PERSONS.chenWei.idNumber, phone: PERSONS.chenWei.phone };
    if (entry.uscc === ENTERPRISES.fishBallShop.uscc) entry.legalRepresentative = { name: PERSONS.linJianhua.name, idNumber: PERSONS.linJianhua.idNumber, phone: PERSONS.linJianhua.phone };
  }
  const file = join(dir, 'registries.json');
  writeFileSync(file, JSON.stringify(fixtures));
  return file;
}

/**
 * Runs `before` on a server with the bundled register, then `after` on a new server over the
 * same stores whose register names the new representatives; cleans everything up.
 */
async function acrossRegisterChange<T>(
  before: (server: TestServer) => Promise<T>,
  after: (server: TestServer, earlier: T, context: { registerFile: string; env: Record<string, string> }) => Promise<void>,
): Promise<void> {
  const stores = sharedStoresEnv();
  const scratch = mkdtempSync(join(tmpdir(), 'civic-idp-register-'));
  try {
    const first = await startServer(GENEROUS_SMS, { stores });
    let earlier: T;
    try {
      earlier = await before(first);
    } finally {
      await first.close();
    }
    const registerFile = changedRegister(scratch);
    const second = await startServer({ ...GENEROUS_SMS, REGISTRY_FIXTURES: registerFile }, { stores });
    try {
      await after(second, earlier, { registerFile, env: stores.env });
    } finally {
      await second.close();
    }
  } finally {
    await stores.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

test('a new representative on the register ends the old one\'s authority at once; the new one claims with the same checks; grants stay', async (t) => {
  // Before: 张三 and 李娜 register their enterprises; 张三 has set an enterprise password and made a grant.
  await acrossRegisterChange(async (server) => {
    const zhang = await citizen(server, PERSONS.zhangSan);
    const li = await citizen(server, PERSONS.liNa);
    await citizen(server, PERSONS.chenWei);
    await citizen(server, PERSONS.linJianhua);
    const techId = await registerAsRepresentative(server, zhang.api, ENTERPRISES.fuzhouTech, PERSONS.zhangSan.phone);
    const shopId = await registerAsRepresentative(server, li.api, ENTERPRISES.fishBallShop, PERSONS.liNa.phone);
    await zhang.api('POST', '/account/codes', { operation: 'enterprise_password' });
    const code = await latestCode(server, PERSONS.zhangSan.phone, 'verify');
    t.is((await zhang.api('POST', `/enterprises/${techId}/password`, { password: 'Enterprise-Pass-2026', code })).status, 204);
    const grantId = randomUUID();
    const now = new Date();
    await server.deps.database.db.insertInto('delegation_grants').values({
      id: grantId, enterprise_id: techId, parent_id: null, grantor_account_id: zhang.id, grantee_account_id: li.id, level: 1,
      scope: JSON.stringify([{ client_id: 'portal', service_items: ['tax.declare'] }]), valid_from: now, valid_until: new Date(now.getTime() + 30 * 86_400_000),
      may_redelegate: true, status: 'active',
    }).execute();
    return { techId, shopId, grantId };
  }, async (server, { techId, shopId, grantId }, { registerFile, env }) => {
    const grantBefore = await server.deps.database.db.selectFrom('delegation_grants').selectAll().where('id', '=', grantId).executeTakeFirstOrThrow();
    const zhang = await signedIn(server, PERSONS.zhangSan);
    t.is((await zhang('GET', '/enterprises')).body.enterprises.length, 1, 'nothing has asked the register yet');

    // Found by the operator's sync.
    const sync = await runCli(['enterprises:sync'], { ...env, REGISTRY_FIXTURES: registerFile });
    t.is(sync.code, 0, sync.stderr);
    t.regex(sync.stdout, /representative changed: 2/);

    t.deepEqual((await zhang('GET', '/enterprises')).body.enterprises, []);
    const refused = await zhang('GET', `/enterprises/${techId}`);
    t.is(refused.status, 403);
    t.is(refused.body.error, 'enterprise_not_representative');
    t.is((await zhang('POST', '/enterprises', ENTERPRISES.fuzhouTech)).body.error, 'enterprise_representative_mismatch');
    const tech = await server.deps.enterprises.byId(techId);
    t.is(tech?.representative_account_id, null);
    t.is(tech?.password_hash, null, 'the old representative\'s enterprise password is gone');
    t.true((await auditOf(server, techId)).includes('enterprise.representative.change:success'));

    // The new representative claims with the code sent to the phone on the register.
    const chen = await signedIn(server, PERSONS.chenWei);
    const started = await chen('POST', '/enterprises', ENTERPRISES.fuzhouTech);
    t.is(started.status, 201);
    const code = await latestCode(server, PERSONS.chenWei.phone, 'enterprise');
    const wrong = await chen('POST', `/enterprises/applications/${started.body.application.id}/confirm`, { code: otherCode(code) });
    t.is(wrong.body.error, 'code_invalid');
    t.is((await server.deps.enterprises.byId(techId))?.representative_account_id, null);
    const claimed = await chen('POST', `/enterprises/applications/${started.body.application.id}/confirm`, { code });
    t.is(claimed.status, 200);
    t.is(claimed.body.enterprise_id, techId, 'the same enterprise account, not a new one');
    t.like((await chen('GET', '/enterprises')).body.enterprises[0], { id: techId, role: 'legal_representative', level: 0, enterprise_password_set: false });
    t.true((await auditOf(server, techId)).includes('enterprise.representative.claim:success'));
    t.is((await zhang('POST', '/enterprises', ENTERPRISES.fuzhouTech)).body.error, 'enterprise_representative_mismatch');

    // Grants made under the old representative are untouched and now belong to the new one's enterprise.
    const grantAfter = await server.deps.database.db.selectFrom('delegation_grants').selectAll().where('id', '=', grantId).executeTakeFirstOrThrow();
    t.deepEqual(grantAfter, grantBefore);
    t.is(grantAfter.enterprise_id, (await server.deps.enterprises.representedBy((await server.deps.accounts.byIdNumber(PERSONS.chenWei.idNumber))!.id))[0]!.id);

    // Checked at registration too: 林建华 claims the shop the moment he registers it.
    const lin = await signedIn(server, PERSONS.linJianhua);
    const shopStart = await lin('POST', '/enterprises', ENTERPRISES.fishBallShop);
    t.is(shopStart.status, 201);
    const shopDone = await lin('POST', `/enterprises/applications/${shopStart.body.application.id}/confirm`, { code: await latestCode(server, PERSONS.linJianhua.phone, 'enterprise') });
    t.is(shopDone.body.enterprise_id, shopId);
    t.deepEqual((await (await signedIn(server, PERSONS.liNa))('GET', '/enterprises')).body.enterprises, []);
  });
});

test('the representative change is found when the register is asked at registration, without a sync', async (t) => {
  await acrossRegisterChange(async (server) => {
    const li = await citizen(server, PERSONS.liNa);
    await citizen(server, PERSONS.linJianhua);
    return registerAsRepresentative(server, li.api, ENTERPRISES.fishBallShop, PERSONS.liNa.phone);
  }, async (server, shopId) => {
    const lin = await signedIn(server, PERSONS.linJianhua);
    const started = await lin('POST', '/enterprises', ENTERPRISES.fishBallShop);
    t.is(started.status, 201, JSON.stringify(started.body));
    // Already at this point, before any code, the old representative has lost the enterprise.
    t.is((await server.deps.enterprises.byId(shopId))?.representative_account_id, null);
    t.deepEqual((await (await signedIn(server, PERSONS.liNa))('GET', '/enterprises')).body.enterprises, []);
  });
});

test('a former representative who chooses to act for the enterprise at login is stopped by the register, and loses it at once', async (t) => {
  await acrossRegisterChange(async (server) => {
    const zhang = await citizen(server, PERSONS.zhangSan);
    return registerAsRepresentative(server, zhang.api, ENTERPRISES.fuzhouTech, PERSONS.zhangSan.phone);
  }, async (server, techId) => {
    // No sync ran: the database still names 张三, so the choice is offered; choosing it asks the register.
    const auth = await beginAuthorization(server.url, PORTAL);
    const afterLogin = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: PERSONS.zhangSan.phone, password: PASSWORD });
    const option = /data-enterprise-option="([^"]+)"/.exec(afterLogin.body)?.[1];
    t.truthy(option, 'the enterprise is offered');
    const chosen = await auth.browser.post(afterLogin.url, { csrf: hidden(afterLogin.body, 'csrf'), choice: option! });
    t.is(errorCode(chosen.body), 'enterprise_not_representative');
    t.false(chosen.body.includes('data-enterprise-option'), 'and it is no longer offered');
    t.is((await server.deps.enterprises.byId(techId))?.representative_account_id, null);
    t.true((await auditOf(server, techId)).includes('enterprise.representative.change:success'));
    // Acting as oneself still works.
    const self = await auth.browser.post(afterLogin.url, { csrf: hidden(chosen.body, 'csrf'), choice: 'self' });
    t.is(errorCode(self.body), undefined);
  });
});
