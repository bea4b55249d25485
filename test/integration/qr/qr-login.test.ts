import test from 'ava';
import { decodeJwt } from 'jose';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson } from '../../helpers/account-centre.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization, codeFrom, exchangeCode } from '../../helpers/oidc.js';
import { appLogin, completeQr, openQrTab, payloadOf, portalLogin, qrApi, qrImageOf, qrStatus, type QrPage } from '../../helpers/qr-login.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * PC login by QR code through the real HTTP surface: a cookie-keeping "browser" starts the
 * portal's authorization and opens the QR tab; the "app" holds an access token from a
 * normal app login (PKCE) and calls the scan and decision API; the page completes.
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

async function person(level: 2 | 3 = 2) {
  const who = makePerson();
  const id = await seedAccount(server.deps, who, { level });
  return { ...who, id, token: await appLogin(server.url, who.phone, PASSWORD) };
}

async function auditOf(accountId: string) {
  return server.deps.securityEvents.recent(accountId, 50);
}

/** Nothing reached the client and the browser has no SSO session. */
function noLogin(t: import('ava').ExecutionContext, page: QrPage, result: { url: string }) {
  t.false(result.url.includes('code='), result.url);
  t.false([...page.auth.browser.cookies().keys()].some((name) => name.startsWith('_session')));
}

async function confirmed(page: QrPage, token: string) {
  const scan = await qrApi(server.url, token, 'scan', { qr: page.payload });
  if (scan.status !== 200) throw new Error(`scan: ${JSON.stringify(scan.body)}`);
  const decision = await qrApi(server.url, token, 'decision', { qr: page.payload, decision: 'confirm' });
  if (decision.status !== 200) throw new Error(`decision: ${JSON.stringify(decision.body)}`);
}

test('the app scans, sees who asks and from where, confirms; the page logs in that account with amr qr and its acr', async (t) => {
  const a = await person(3);
  const page = await openQrTab(server.url);
  t.regex(page.body, /aria-current="page">扫码登录</);
  t.regex(page.body, /<script src="\/static\/qr-login\.js" defer><\/script>/);
  t.is(page.image, await qrImageOf(page.payload), 'the image is the QR code of the payload');
  t.deepEqual((await qrStatus(page)).body, { status: 'pending' });

  const scan = await qrApi(server.url, a.token, 'scan', { qr: page.payload });
  t.is(scan.status, 200);
  t.is(scan.headers.get('cache-control'), 'no-store');
  t.deepEqual(scan.body.client, { id: 'portal', name: '省政务服务网' });
  t.is(scan.body.browser.ip_approximate, '127.0.0.*');
  t.is(scan.body.browser.user_agent, 'node');
  t.true(scan.body.expires_in > 0 && scan.body.expires_in <= 120);
  t.is(Date.parse(scan.body.expires_at) - Date.parse(scan.body.created_at), 120_000);
  t.deepEqual((await qrStatus(page)).body, { status: 'scanned' });

  const decision = await qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'confirm' });
  t.deepEqual([decision.status, decision.body], [200, { status: 'confirmed' }]);
  t.deepEqual((await qrStatus(page)).body, { status: 'confirmed' });

  const done = await completeQr(page);
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, page.auth.state), page.auth.verifier);
  t.is(tokens.status, 200);
  const claims = decodeJwt(tokens.body.id_token!);
  t.is(claims.sub, a.id);
  t.deepEqual(claims.amr, ['qr']);
  t.is(claims.acr, 'urn:civic-idp:loa:3');

  const events = await auditOf(a.id);
  t.truthy(events.find((e) => e.action === 'login.qr.confirm' && e.result === 'success' && e.details.client_id === 'portal'));
  t.truthy(events.find((e) => e.action === 'login' && e.result === 'success' && JSON.stringify(e.details.amr) === '["qr"]'));
});

test('a denial is refused at the page and changes nothing; a later confirmation is a second decision', async (t) => {
  const a = await person();
  const page = await openQrTab(server.url);
  t.is((await qrApi(server.url, a.token, 'scan', { qr: page.payload })).status, 200);
  const denied = await qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'deny' });
  t.deepEqual([denied.status, denied.body], [200, { status: 'denied' }]);
  t.deepEqual((await qrStatus(page)).body, { status: 'denied' });

  const result = await completeQr(page);
  t.is(result.response.status, 400);
  t.is(errorCode(result.body), 'qr_denied');
  t.regex(result.body, /此次扫码登录已在手机上被拒绝/);
  noLogin(t, page, result);

  const again = await qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'confirm' });
  t.is(again.status, 409);
  t.is(again.body.error, 'qr_used');
  t.truthy(again.body.message_zh);
  t.truthy(again.body.message_en);
  t.is((await completeQr(page)).response.status, 400, 'still denied');
  t.truthy((await auditOf(a.id)).find((e) => e.action === 'login.qr.deny'));
});

test('a second confirmation is refused; of twenty parallel ones exactly one succeeds; the code logs in once', async (t) => {
  const a = await person();
  const page = await openQrTab(server.url);
  t.is((await qrApi(server.url, a.token, 'scan', { qr: page.payload })).status, 200);
  const answers = await Promise.all(Array.from({ length: 20 }, () => qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'confirm' })));
  t.is(answers.filter((answer) => answer.status === 200).length, 1);
  t.true(answers.filter((answer) => answer.status !== 200).every((answer) => answer.status === 409 && answer.body.error === 'qr_used'));

  // Scanning a decided code again is refused as well.
  t.is((await qrApi(server.url, a.token, 'scan', { qr: page.payload })).body.error, 'qr_used');

  const completions = await Promise.all([completeQr(page), completeQr(page)]);
  t.is(completions.filter((done) => done.url.includes('code=')).length, 1);
});

test('an expired code is refused by both calls and the page, and the interaction gets a fresh one', async (t) => {
  const a = await person();
  const page = await openQrTab(server.url);
  // Two minutes pass: the stored request says so (its TTL would remove it moments later).
  const key = `qr-login:request:${page.id}`;
  const stored = JSON.parse((await server.deps.cache.get(key))!) as { expiresAt: number };
  await server.deps.cache.set(key, JSON.stringify({ ...stored, expiresAt: Math.floor(Date.now() / 1000) - 1 }), 60);

  for (const [path, body] of [['scan', { qr: page.payload }], ['decision', { qr: page.payload, decision: 'confirm' }]] as const) {
    const answer = await qrApi(server.url, a.token, path, body);
    t.is(answer.status, 400, path);
    t.is(answer.body.error, 'qr_expired', path);
  }
  t.deepEqual((await qrStatus(page)).body, { status: 'expired' });
  const result = await completeQr(page);
  t.is(errorCode(result.body), 'qr_expired');
  noLogin(t, page, result);
  t.not(/name="qr" value="([^"]+)"/.exec(result.body)?.[1], page.id, 'the page shows a new code');
});

test('a new code for the same interaction ends the old one', async (t) => {
  const a = await person();
  const first = await openQrTab(server.url);
  const second = await openQrTab(server.url, first.auth);
  t.not(second.id, first.id);
  t.is((await qrApi(server.url, a.token, 'scan', { qr: first.payload })).body.error, 'qr_expired');
  t.deepEqual((await qrStatus(first)).body, { status: 'expired' });
  await confirmed(second, a.token);
  t.true((await completeQr(second)).url.includes('code='));
});

test('the completion before the app confirms is refused and keeps the same code on the page', async (t) => {
  const a = await person();
  const page = await openQrTab(server.url);
  t.is((await qrApi(server.url, a.token, 'scan', { qr: page.payload })).status, 200);
  const early = await completeQr(page);
  t.is(early.response.status, 409);
  t.is(errorCode(early.body), 'qr_pending');
  t.regex(early.body, new RegExp(`name="qr" value="${page.id}"`));
  noLogin(t, page, early);
  t.is((await qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'confirm' })).status, 200);
  t.true((await completeQr(page)).url.includes('code='));
});

test('tokens of another client, without the scope, or no token at all are refused and change nothing', async (t) => {
  const a = makePerson();
  await seedAccount(server.deps, a);
  const page = await openQrTab(server.url);

  const portalToken = await portalLogin(server.url, a.phone, PASSWORD);
  for (const path of ['scan', 'decision'] as const) {
    const answer = await qrApi(server.url, portalToken, path, { qr: page.payload, decision: 'confirm' });
    t.is(answer.status, 403, path);
    t.is(answer.body.error, 'qr_client_not_allowed', path);
  }

  const narrow = await appLogin(server.url, a.phone, PASSWORD, 'openid');
  for (const path of ['scan', 'decision'] as const) {
    const answer = await qrApi(server.url, narrow, path, { qr: page.payload, decision: 'confirm' });
    t.is(answer.status, 403, path);
    t.is(answer.body.error, 'qr_scope_missing', path);
    t.regex(answer.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    t.is(answer.body.message_en, 'This access token may not confirm QR code sign-ins (the qr_login scope is needed).');
  }

  for (const bad of [undefined, 'not-a-token']) {
    const answer = await qrApi(server.url, bad, 'scan', { qr: page.payload });
    t.is(answer.status, 401);
    t.is(answer.body.error, 'unauthenticated');
  }
  t.deepEqual((await qrStatus(page)).body, { status: 'pending' }, 'nobody claimed the code');
  t.is(errorCode((await completeQr(page)).body), 'qr_pending');
});

test('a payload that is not ours, an unknown code and a decision without its answer are refused', async (t) => {
  const a = await person();
  const malformed = await qrApi(server.url, a.token, 'scan', { qr: 'https://evil.example/qr' });
  t.deepEqual([malformed.status, malformed.body.error], [400, 'qr_expired']);
  const unknown = await qrApi(server.url, a.token, 'scan', { qr: payloadOf('A'.repeat(43)) });
  t.deepEqual([unknown.status, unknown.body.error], [400, 'qr_expired']);
  const missing = await qrApi(server.url, a.token, 'decision', { qr: payloadOf('A'.repeat(43)) });
  t.deepEqual([missing.status, missing.body.error], [400, 'invalid_input']);
});

test('a decision without a scan is refused', async (t) => {
  const a = await person();
  const page = await openQrTab(server.url);
  const answer = await qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'confirm' });
  t.deepEqual([answer.status, answer.body.error], [409, 'qr_not_scanned']);
  t.deepEqual((await qrStatus(page)).body, { status: 'pending' });
});

test('a code scanned by A cannot be scanned or decided by B, and confirmed by A it logs in A', async (t) => {
  const [a, b] = await Promise.all([person(), person()]);
  const page = await openQrTab(server.url);
  t.is((await qrApi(server.url, a.token, 'scan', { qr: page.payload })).status, 200);

  const bScan = await qrApi(server.url, b.token, 'scan', { qr: page.payload });
  t.deepEqual([bScan.status, bScan.body.error], [409, 'qr_claimed']);
  const bDecision = await qrApi(server.url, b.token, 'decision', { qr: page.payload, decision: 'confirm' });
  t.deepEqual([bDecision.status, bDecision.body.error], [409, 'qr_claimed']);
  t.deepEqual((await qrStatus(page)).body, { status: 'scanned' });
  t.truthy((await auditOf(b.id)).find((e) => e.action === 'login.qr' && e.result === 'denied'));

  t.is((await qrApi(server.url, a.token, 'decision', { qr: page.payload, decision: 'confirm' })).status, 200);
  const done = await completeQr(page);
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, page.auth.state), page.auth.verifier);
  t.is(decodeJwt(tokens.body.id_token!).sub, a.id);
});

test('a confirmed code of another interaction is refused by this page and stays usable by its own', async (t) => {
  const a = await person();
  const mine = await openQrTab(server.url);
  const other = await openQrTab(server.url);
  await confirmed(mine, a.token);

  const status = await qrStatus(other, mine.id);
  t.deepEqual([status.status, status.body.error], [400, 'qr_mismatch']);
  const crossed = await completeQr(other, mine.id);
  t.is(crossed.response.status, 400);
  t.is(errorCode(crossed.body), 'qr_mismatch');
  noLogin(t, other, crossed);

  const done = await completeQr(mine);
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, mine.auth.state), mine.auth.verifier);
  t.is(decodeJwt(tokens.body.id_token!).sub, a.id);
});

test('the completion form needs its CSRF token; a banned account confirmed before its ban does not log in', async (t) => {
  const a = await person();
  const page = await openQrTab(server.url);
  await confirmed(page, a.token);
  const forged = await page.auth.browser.post(`/interaction/${page.auth.uid}/login/qr`, { csrf: 'forged', qr: page.id });
  t.is(forged.response.status, 403);
  noLogin(t, page, forged);

  await server.deps.accounts.update(a.id, { status: 'banned' });
  const refused = await completeQr(page);
  t.is(errorCode(refused.body), 'account_banned');
  noLogin(t, page, refused);
});

test('the login page without a tab keeps the live code across views (a phone hides it, a reload redraws it): no new code per view; once another code replaces it, the page shows that one', async (t) => {
  const auth = await beginAuthorization(server.url, PORTAL);
  const codeOnPage = async () => hidden((await auth.browser.get(`/interaction/${auth.uid}`)).body, 'qr');
  const first = await codeOnPage();
  const views = await Promise.all(Array.from({ length: 20 }, () => codeOnPage()));
  t.deepEqual(new Set(views), new Set([first]), 'twenty views show the one code');
  // The QR tab opened explicitly issues a new code; the plain page then shows that one, not the ended first.
  const tab = await openQrTab(server.url, auth);
  t.not(tab.id, first);
  t.is(await codeOnPage(), tab.id);
});
