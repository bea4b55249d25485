import test from 'ava';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { sharedStoresEnv } from '../../helpers/env.js';
import { errorCode, hidden, HttpBrowser } from '../../helpers/http-browser.js';
import { PORTAL, passwordLogin } from '../../helpers/oidc.js';
import { MINIPROGRAM } from '../../helpers/wechat.js';
import { authorize, redirectParams, withPassword } from '../../helpers/policy.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';
import type { StaffCredentials } from '../../../src/staff/staff-accounts.js';

let server: TestServer;
const stores = sharedStoresEnv();
let adminCreds: StaffCredentials;
let admin: StaffClient;
let agent: StaffClient;
let auditor: StaffClient;
let levelTwo: string;

test.before(async () => {
  server = await startServer({}, { stores });
  adminCreds = await createStaff(server.deps, 'admin.clients', ['admin']);
  admin = await staffSignIn(server, adminCreds);
  agent = await staffSignIn(server, await createStaff(server.deps, 'agent.clients', ['agent']));
  auditor = await staffSignIn(server, await createStaff(server.deps, 'auditor.clients', ['auditor']));
  levelTwo = await seedAccount(server.deps, ZHANG_SAN);
});
test.after.always(async () => { await server?.close(); await stores.cleanup(); });

const row = (clientId: string) => server.deps.database.db.selectFrom('oidc_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();

/** The token endpoint with HTTP Basic client authentication. */
async function token(clientId: string, secret: string, form: Record<string, string>) {
  const response = await fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

function register(client: StaffClient, body: Record<string, unknown>) {
  return client.api('POST', '/clients', body);
}

test.serial('the list shows every client with its kind, source and policy summary; file clients included', async (t) => {
  const list = await admin.api('GET', '/clients');
  t.is(list.status, 200);
  const byId = new Map((list.body.clients as Array<Record<string, any>>).map((c) => [c.client_id, c]));
  t.is(byId.get('portal')?.kind, 'web');
  t.is(byId.get('portal')?.source, 'file');
  t.true(byId.get('portal')?.confidential);
  t.is(byId.get('app')?.kind, 'native');
  t.is(byId.get('miniprogram')?.kind, 'mini-program');
  t.is(byId.get('portal')?.policy_summary.min_assurance_level, 2);
  t.false(JSON.stringify(list.body).includes((await row('portal'))!.secret_digest!), 'not even the digest is shown');

  const page = await admin.browser.get('/admin/clients');
  t.is(page.response.status, 200);
  t.is(page.response.headers.get('cache-control'), 'no-store');
  t.regex(page.body, /data-client="portal"/);
  t.regex(page.body, /href="\/admin\/clients"/, 'the console menu leads here for admins');
});

test.serial('a confidential web client: metadata checked, the secret shown once and stored only as its HMAC digest; it authenticates at the token endpoint', async (t) => {
  const created = await register(admin, {
    client_id: 'tax-portal', client_name: '电子税务局', kind: 'web',
    redirect_uris: ['https://tax.gov.example/oidc/callback'], post_logout_redirect_uris: ['https://tax.gov.example/'],
    backchannel_logout_uri: 'https://tax.gov.example/oidc/backchannel',
    access_policy: { entity_types: ['natural', 'legal'], min_assurance_level: 2 },
  });
  t.is(created.status, 201, JSON.stringify(created.body));
  const secret = created.body.client_secret as string;
  t.true(secret.length >= 43);
  t.is(created.body.client.kind, 'web');
  t.is(created.body.client.source, 'console');
  const stored = (await row('tax-portal'))!;
  t.is(stored.secret_digest, server.deps.clients.secretDigest(secret));
  t.false(JSON.stringify(stored).includes(secret));
  t.is(stored.metadata.token_endpoint_auth_method, 'client_secret_basic');
  t.is(stored.metadata.backchannel_logout_session_required, true);

  // Shown once: the client's page and the API never show it again.
  t.false(JSON.stringify((await admin.api('GET', '/clients/tax-portal')).body).includes(secret));
  t.false((await admin.browser.get('/admin/clients/tax-portal')).body.includes(secret));

  // The provider knows it at once: the right secret passes client authentication (the code is bogus), a wrong one does not.
  const right = await token('tax-portal', secret, { grant_type: 'authorization_code', code: 'bogus', redirect_uri: 'https://tax.gov.example/oidc/callback' });
  t.is(right.body.error, 'invalid_grant');
  const wrong = await token('tax-portal', `${secret}x`, { grant_type: 'authorization_code', code: 'bogus', redirect_uri: 'https://tax.gov.example/oidc/callback' });
  t.is(wrong.body.error, 'invalid_client');

  const audit = (await auditOf(server.deps, 'client.register')).filter((r) => r.target_id === 'tax-portal');
  t.is(audit.length, 1);
  t.is(audit[0]!.result, 'success');
  t.is(audit[0]!.actor_id, adminCreds.id);
  t.false(JSON.stringify(audit[0]!.details).includes(secret));

  t.is((await register(admin, { client_id: 'tax-portal', client_name: 'again', kind: 'native', redirect_uris: ['cn.gov.example.tax:/cb'] })).body.error, 'client_exists');
});

test.serial('native app and mini-program are public (PKCE, no secret); a service client gets client_credentials only', async (t) => {
  const app = await register(admin, { client_id: 'tax-app', client_name: '税务 App', kind: 'native', redirect_uris: ['cn.gov.example.tax:/oauth2/callback'] });
  t.is(app.status, 201, JSON.stringify(app.body));
  t.is(app.body.client_secret, undefined);
  t.is(app.body.client.kind, 'native');
  t.is(app.body.client.token_endpoint_auth_method, 'none');
  t.is((await row('tax-app'))!.secret_digest, null);
  t.is((await admin.api('POST', '/clients/tax-app/secret', {})).body.error, 'client_no_secret');

  const mini = await register(admin, { client_id: 'tax-mini', client_name: '税务小程序', kind: 'mini-program', redirect_uris: ['https://tax-mini.gov.example/cb'] });
  t.is(mini.status, 201, JSON.stringify(mini.body));
  t.is(mini.body.client.kind, 'mini-program');
  t.is(mini.body.client_secret, undefined);

  // A public client's authorization request without PKCE is refused by the provider.
  const noPkce = await new HttpBrowser(server.url).get(`/auth?client_id=tax-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('cn.gov.example.tax:/oauth2/callback')}`);
  t.is(redirectParams(noPkce, { client_id: 'tax-app', redirect_uri: 'cn.gov.example.tax:/oauth2/callback' })?.get('error'), 'invalid_request');

  const service = await register(admin, { client_id: 'tax-batch', client_name: '税务批处理', kind: 'service' });
  t.is(service.status, 201, JSON.stringify(service.body));
  t.is(service.body.client.kind, 'service');
  const issued = await token('tax-batch', service.body.client_secret, { grant_type: 'client_credentials' });
  t.is(issued.status, 200);
  t.truthy(issued.body.access_token);
});

test.serial('rotating a secret: the new one works and the old one fails at once; file clients keep theirs', async (t) => {
  const created = await register(admin, { client_id: 'rotating-service', client_name: '轮换', kind: 'service' });
  const old = created.body.client_secret as string;
  t.is((await token('rotating-service', old, { grant_type: 'client_credentials' })).status, 200, 'the metadata is cached with the old digest');

  const rotated = await admin.api('POST', '/clients/rotating-service/secret', {});
  t.is(rotated.status, 200);
  const fresh = rotated.body.client_secret as string;
  t.not(fresh, old);
  t.is((await token('rotating-service', old, { grant_type: 'client_credentials' })).body.error, 'invalid_client');
  t.is((await token('rotating-service', fresh, { grant_type: 'client_credentials' })).status, 200);
  t.true((await auditOf(server.deps, 'client.secret_rotate')).some((r) => r.target_id === 'rotating-service' && r.result === 'success'));

  // The page asks for its confirmation box first: without it nothing changes.
  const page = await admin.browser.get('/admin/clients/rotating-service');
  const unconfirmed = await admin.browser.post('/admin/clients/rotating-service/secret', { csrf: hidden(page.body, 'csrf') });
  t.is(errorCode(unconfirmed.body), 'confirmation_required');
  t.is((await token('rotating-service', fresh, { grant_type: 'client_credentials' })).status, 200, 'the secret is unchanged');
  // Confirmed, the page shows the new secret once, on its own page.
  const shown = await admin.browser.post('/admin/clients/rotating-service/secret', { csrf: hidden(page.body, 'csrf'), confirm: 'yes' });
  const third = /data-client-secret>([^<]+)</.exec(shown.body)?.[1] ?? '';
  t.true(third.length >= 43);
  t.is((await token('rotating-service', fresh, { grant_type: 'client_credentials' })).body.error, 'invalid_client');
  t.is((await token('rotating-service', third, { grant_type: 'client_credentials' })).status, 200);

  // A second instance on the same stores, whose metadata cache still holds the old digest, refuses the old secret too.
  const other = await startServer({}, { stores });
  try {
    const atOther = (secret: string) => fetch(new URL('/token', other.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`rotating-service:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    t.is((await atOther(third)).status, 200, 'the other instance has now cached this digest');
    const last = (await admin.api('POST', '/clients/rotating-service/secret', {})).body.client_secret as string;
    t.is((await atOther(third)).status, 401);
    t.is((await atOther(last)).status, 200);
  } finally {
    await other.close();
  }

  // The portal comes from CLIENTS_FILE: its secret is the file's, refused here and audited.
  const digest = (await row('portal'))!.secret_digest;
  const refused = await admin.api('POST', '/clients/portal/secret', {});
  t.is(refused.status, 409);
  t.is(refused.body.error, 'client_file_managed');
  t.is((await row('portal'))!.secret_digest, digest);
  t.true((await auditOf(server.deps, 'client.secret_rotate')).some((r) => r.target_id === 'portal' && r.result === 'denied'));
  t.is((await admin.api('POST', '/clients/portal/metadata', { client_name: 'renamed' })).body.error, 'client_file_managed');
  t.is((await row('portal'))!.metadata.client_name, '省政务服务网');
});

test.serial('editing redirect URIs applies to the very next authorization (no restart, no stale cache)', async (t) => {
  await register(admin, { client_id: 'moving-app', client_name: '搬家', kind: 'native', redirect_uris: ['cn.gov.example.moving:/old'] });
  const next = { client_id: 'moving-app', redirect_uri: 'cn.gov.example.moving:/new' };
  const before = await authorize(server, new HttpBrowser(server.url), next);
  t.is(before.status, 400, 'the new address is not registered yet (and the metadata is now cached)');

  const edited = await admin.api('POST', '/clients/moving-app/metadata', {
    client_name: '搬家了', redirect_uris: ['cn.gov.example.moving:/new'], post_logout_redirect_uris: ['cn.gov.example.moving:/bye'],
  });
  t.is(edited.status, 200, JSON.stringify(edited.body));
  t.deepEqual(edited.body.redirect_uris, ['cn.gov.example.moving:/new']);
  const after = await authorize(server, new HttpBrowser(server.url), next);
  t.regex(after.url, /\/interaction\//);
  t.is((await authorize(server, new HttpBrowser(server.url), { ...next, redirect_uri: 'cn.gov.example.moving:/old' })).status, 400);

  const audit = (await auditOf(server.deps, 'client.update')).filter((r) => r.target_id === 'moving-app');
  t.deepEqual((audit.at(-1)!.details as { changed: string[] }).changed.sort(), ['client_name', 'post_logout_redirect_uris', 'redirect_uris']);

  // The form on the client's page does the same.
  const page = await admin.browser.get('/admin/clients/moving-app');
  const saved = await admin.browser.post('/admin/clients/moving-app/metadata', {
    csrf: hidden(page.body, 'csrf'), client_name: '搬家', redirect_uris: 'cn.gov.example.moving:/new\ncn.gov.example.moving:/other', post_logout_redirect_uris: '', backchannel_logout_uri: '',
  });
  t.regex(saved.url, /done=client_updated/);
  t.deepEqual((await row('moving-app'))!.metadata.redirect_uris, ['cn.gov.example.moving:/new', 'cn.gov.example.moving:/other']);
});

test.serial('invalid metadata changes nothing and is audited: http web addresses, implicit response type, unknown grant', async (t) => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['http redirect', { client_id: 'bad-http', client_name: 'x', kind: 'web', redirect_uris: ['http://bad.gov.example/cb'] }],
    ['http back-channel', { client_id: 'bad-bcl', client_name: 'x', kind: 'web', redirect_uris: ['https://bad.gov.example/cb'], backchannel_logout_uri: 'http://bad.gov.example/bcl' }],
    ['implicit', { client_id: 'bad-implicit', client_name: 'x', kind: 'web', redirect_uris: ['https://bad.gov.example/cb'], grant_types: ['implicit'], response_types: ['id_token'] }],
    ['unknown grant', { client_id: 'bad-grant', client_name: 'x', kind: 'web', redirect_uris: ['https://bad.gov.example/cb'], grant_types: ['urn:example:unknown'] }],
    ['fragment', { client_id: 'bad-fragment', client_name: 'x', kind: 'native', redirect_uris: ['cn.gov.example.bad:/cb#frag'] }],
  ];
  for (const [name, body] of cases) {
    const refused = await register(admin, body);
    t.is(refused.status, 400, name);
    t.is(refused.body.error, 'client_metadata_invalid', name);
    t.is(await row(body.client_id as string), undefined, name);
    t.true((await auditOf(server.deps, 'client.register')).some((r) => r.target_id === body.client_id && r.result === 'denied'), name);
  }
  t.is((await register(admin, { client_id: 'bad id', client_name: 'x', kind: 'native', redirect_uris: ['cn.gov.example.bad:/cb'] })).body.error, 'invalid_input');

  // An edit with an http address leaves the client as it was.
  await register(admin, { client_id: 'steady-web', client_name: '稳定', kind: 'web', redirect_uris: ['https://steady.gov.example/cb'] });
  const edit = await admin.api('POST', '/clients/steady-web/metadata', { redirect_uris: ['http://steady.gov.example/cb'] });
  t.is(edit.body.error, 'client_metadata_invalid');
  t.deepEqual((await row('steady-web'))!.metadata.redirect_uris, ['https://steady.gov.example/cb']);
  t.true((await auditOf(server.deps, 'client.update')).some((r) => r.target_id === 'steady-web' && r.result === 'denied'));

  // The registration form shows the refusal on the page.
  const page = await admin.browser.get('/admin/clients');
  const form = await admin.browser.post('/admin/clients', { csrf: hidden(page.body, 'csrf'), client_id: 'bad-form', client_name: 'x', kind: 'web', redirect_uris: 'http://bad.gov.example/cb' });
  t.is(form.response.status, 400);
  t.is(errorCode(form.body), 'client_metadata_invalid');
  t.is(await row('bad-form'), undefined);
});

test.serial('agents and auditors are refused every client operation, audited, and nothing changes', async (t) => {
  const policy = (await row('portal'))!.access_policy;
  for (const [who, staff] of [['agent', agent], ['auditor', auditor]] as const) {
    t.is((await staff.api('GET', '/clients')).status, 403, who);
    t.is((await staff.api('GET', '/clients/portal')).status, 403, who);
    t.is((await register(staff, { client_id: `by-${who}`, client_name: 'x', kind: 'native', redirect_uris: ['cn.gov.example.x:/cb'] })).status, 403, who);
    t.is((await staff.api('POST', '/clients/tax-portal/secret', {})).status, 403, who);
    t.is((await staff.api('POST', '/clients/tax-portal/metadata', { client_name: 'x' })).status, 403, who);
    t.is((await staff.api('POST', '/clients/portal/policy', { min_assurance_level: 1 })).status, 403, who);
    t.is(await row(`by-${who}`), undefined);
    const page = await staff.browser.get('/admin/clients');
    t.is(page.response.status, 403, who);
    t.notRegex(page.body, /data-client="portal"/);
    t.notRegex((await staff.browser.get('/admin')).body, /href="\/admin\/clients"/, 'no menu entry either');
  }
  t.deepEqual((await row('portal'))!.access_policy, policy);
  t.is((await row('tax-portal'))!.metadata.client_name, '电子税务局');
  for (const action of ['client.list', 'client.read', 'client.register', 'client.secret_rotate', 'client.update', 'client.policy_change']) {
    const denied = (await auditOf(server.deps, action)).filter((r) => r.result === 'denied' && (r.details as { reason?: string }).reason === 'missing_role');
    t.true(denied.length >= 2, action);
  }
});

test.serial('a forged or missing CSRF token changes nothing and is audited', async (t) => {
  const policy = (await row('portal'))!.access_policy;
  const forged = await admin.api('POST', '/clients', { client_id: 'forged', client_name: 'x', kind: 'native', redirect_uris: ['cn.gov.example.f:/cb'] }, { 'x-csrf-token': 'forged' });
  t.is(forged.status, 403);
  t.is(forged.body.error, 'csrf');
  t.is((await admin.api('POST', '/clients/portal/policy', { min_assurance_level: 3 }, { 'x-csrf-token': '' })).status, 403);
  const page = await admin.browser.post('/admin/clients/portal/policy', { csrf: 'forged', entity_types: 'natural', min_assurance_level: '3' });
  t.is(page.response.status, 403);
  const rotate = await admin.browser.post('/admin/clients/tax-portal/secret', { csrf: 'forged' });
  t.is(rotate.response.status, 403);
  t.is(await row('forged'), undefined);
  t.deepEqual((await row('portal'))!.access_policy, policy);
  t.true((await auditOf(server.deps, 'staff.csrf')).filter((r) => r.actor_id === adminCreds.id).length >= 4);
});

test.serial('an invalid policy changes nothing; a valid one through the API is stored, audited and summarised', async (t) => {
  const before = (await row('tax-portal'))!.access_policy;
  for (const bad of [{ entity_types: [] }, { min_assurance_level: 4 }, { login_methods: ['telepathy'] }, { unknown_field: true }, { service_items: [{ code: 'Bad Code', name: 'x' }] }]) {
    const refused = await admin.api('POST', '/clients/tax-portal/policy', bad);
    t.is(refused.body.error, 'invalid_input', JSON.stringify(bad));
  }
  t.deepEqual((await row('tax-portal'))!.access_policy, before);
  t.true((await auditOf(server.deps, 'client.policy_change')).some((r) => r.target_id === 'tax-portal' && r.result === 'denied'));

  const set = await admin.api('POST', '/clients/tax-portal/policy', {
    entity_types: ['legal'], min_assurance_level: 3, login_methods: ['pwd', 'sms'], release_id_number: true,
    service_items: [{ code: 'tax.declare', name: '纳税申报' }], allow_accounts: [levelTwo], deny_accounts: ['someone-else'],
  });
  t.is(set.status, 200, JSON.stringify(set.body));
  t.deepEqual(set.body.policy_summary, {
    entity_types: ['legal'], min_assurance_level: 3, login_methods: ['pwd', 'sms'], release_id_number: true, release_phone_number: false, release_name: false,
    service_items: 1, allow_accounts: 1, deny_accounts: 1,
  });
  const audit = (await auditOf(server.deps, 'client.policy_change')).filter((r) => r.target_id === 'tax-portal' && r.result === 'success');
  t.is(audit.length, 1);
  t.is(audit[0]!.actor_id, adminCreds.id);
});

test.serial('an admin sets minimum level 3 on the portal in the console: the next login of a level-2 citizen ends on the refusal page', async (t) => {
  const portal = { client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri };
  // Before: the same citizen gets a code from the portal (and the portal's metadata is cached).
  const first = await withPassword(await authorize(server, new HttpBrowser(server.url), portal), ZHANG_SAN.idNumber, PASSWORD);
  t.truthy(redirectParams(first, portal)?.get('code'));

  const page = await admin.browser.get('/admin/clients/portal');
  t.regex(page.body, /data-file-client/);
  const saved = await admin.browser.post('/admin/clients/portal/policy', {
    csrf: hidden(page.body, 'csrf'), entity_types: 'natural', min_assurance_level: '3',
    service_items: 'tax.declare 纳税申报\nsocial.insurance 社保业务', deny_accounts: '',
  });
  t.regex(saved.url, /done=client_policy_changed/);
  const stored = (await row('portal'))!;
  t.is(stored.access_policy.min_assurance_level, 3);
  t.is(stored.policy_source, 'console');

  const next = await withPassword(await authorize(server, new HttpBrowser(server.url), portal), ZHANG_SAN.idNumber, PASSWORD);
  t.is(next.status, 403);
  t.is(errorCode(next.body), 'policy_assurance_level');
  t.regex(next.body, /需到服务大厅现场核验/);
  t.is(redirectParams(next, portal), undefined, 'no code, no redirect');
  t.true((await auditOf(server.deps, 'client.policy_change')).some((r) => r.target_id === 'portal' && r.result === 'success' && r.actor_id === adminCreds.id));

  // An invalid form (no entity type ticked) is shown on the page and changes nothing.
  const again = await admin.browser.get('/admin/clients/portal');
  const invalid = await admin.browser.post('/admin/clients/portal/policy', { csrf: hidden(again.body, 'csrf'), min_assurance_level: '1' });
  t.is(invalid.response.status, 400);
  t.is(errorCode(invalid.body), 'invalid_input');
  t.is((await row('portal'))!.access_policy.min_assurance_level, 3);
});

test.serial('the policy form shows and keeps what a client may have whole: ticking the full name releases it at the mini-program\'s next userinfo', async (t) => {
  const userinfo = async () => {
    const login = await passwordLogin(server.url, MINIPROGRAM, ZHANG_SAN.phone, PASSWORD, { scope: 'openid profile phone' });
    return await (await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${login.tokens.body.access_token}` } })).json() as Record<string, unknown>;
  };
  const before = await userinfo();
  t.is(before.name_masked, '*三');
  t.false('name' in before);
  const page = await admin.browser.get('/admin/clients/miniprogram');
  const box = (flag: string) => new RegExp(`id="${flag}" type="checkbox" name="${flag}" value="on"( checked)?>`).exec(page.body)?.[1] === ' checked';
  t.true(box('release_phone_number'));
  t.false(box('release_name'));
  t.false(box('release_id_number'));

  const saved = await admin.browser.post('/admin/clients/miniprogram/policy', {
    csrf: hidden(page.body, 'csrf'), entity_types: 'natural', min_assurance_level: '2', release_phone_number: 'on', release_name: 'on', service_items: '', deny_accounts: '',
  });
  t.regex(saved.url, /done=client_policy_changed/);
  t.like((await row('miniprogram'))!.access_policy, { release_id_number: false, release_phone_number: true, release_name: true });
  const after = await userinfo();
  t.is(after.name, '张三');
  t.false('name_masked' in after);
  t.is(after.phone_number, '+8613800138000', 'the phone stays whole: the form kept it');
});

test.serial('after a restart CLIENTS_FILE is imported again: the console\'s policy stays, console clients stay, file metadata is the file\'s', async (t) => {
  const lines: string[] = [];
  await server.close();
  server = await startServer({ LOG_LEVEL: 'warn' }, { stores, port: Number(new URL(server.url).port), logSink: { write: (line) => { lines.push(line); } } });
  const portal = (await row('portal'))!;
  t.is(portal.access_policy.min_assurance_level, 3);
  t.is(portal.policy_source, 'console');
  t.is(portal.source, 'file');
  t.is(portal.metadata.client_name, '省政务服务网');
  t.true(lines.some((line) => line.includes('access policy set in the console kept') && line.includes('portal')));
  t.is((await row('tax-portal'))!.source, 'console');
  t.is((await row('app'))!.policy_source, 'file', 'a file client whose policy the console never set follows the file');
});
