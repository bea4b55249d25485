import test from 'ava';
import { UpstreamIdpsFileError } from '../../../src/ports/upstream-idp/config.js';
import { HttpBrowser, errorCode, hidden } from '../../helpers/http-browser.js';
import { isolatedEnv } from '../../helpers/env.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { startForgedUpstream, type ForgedUpstream, type Tampering } from './forged-upstream.js';
import { DOWNSTREAM_CLIENT, UPSTREAM_ID, chooseUpstream, portalTokens, scratchDir, upstreamEntry, writeJson } from './provinces.js';

const PERSON = { idNumber: '350102198503150241', name: '李娜' };

let forged: ForgedUpstream;
let downstream: TestServer;
let scratch: ReturnType<typeof scratchDir>;
test.before(async () => {
  forged = await startForgedUpstream(DOWNSTREAM_CLIENT.client_id, PERSON);
  scratch = scratchDir();
  // A second upstream that nothing answers for: its discovery fails.
  const offline = upstreamEntry(`http://127.0.0.1:${await freePort()}`, { id: 'offline' });
  downstream = await startServer({ UPSTREAM_IDPS_FILE: writeJson(scratch.dir, 'upstream-idps.json', [upstreamEntry(forged.url), offline]) });
});
test.after.always(async () => {
  await downstream?.close();
  await forged?.close();
  scratch?.cleanup();
});

/** Starts a federated login at the downstream and brings back what the (forged) upstream answered. */
async function returnFrom(tampering: Tampering) {
  forged.tamper(tampering);
  const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
  const answer = await fetch(upstreamUrl, { redirect: 'manual' });
  const callback = answer.headers.get('location')!;
  return { auth, callback };
}

async function nothingChanged(t: { deepEqual(a: unknown, b: unknown, message?: string): void }) {
  const db = downstream.deps.database.db;
  t.deepEqual(await db.selectFrom('accounts').select('id').execute(), [], 'no account was created');
  t.deepEqual(await db.selectFrom('federated_identities').select('subject').execute(), [], 'no identity was linked');
}

async function lastFederationAudit() {
  return downstream.deps.database.db.selectFrom('audit_log').select(['action', 'result', 'details'])
    .where('action', '=', 'federation.login').orderBy('seq', 'desc').executeTakeFirstOrThrow();
}

test.serial('control: an unspoiled answer from the same upstream reaches the first-login page', async (t) => {
  const { auth, callback } = await returnFrom({});
  const landed = await auth.browser.get(callback);
  t.is(landed.response.status, 200);
  t.regex(landed.url, /\/federation$/);
  t.true(landed.body.includes('350102********0241'));
  // Leave without choosing: the person abandons the first login.
  await nothingChanged(t);
});

const spoiled: Array<[string, Tampering, string]> = [
  ['an ID token for another audience', { claims: (c) => ({ ...c, aud: 'some-other-client' }) }, 'federation_failed'],
  ['an ID token from another issuer', { claims: (c) => ({ ...c, iss: 'https://idp.elsewhere.example' }) }, 'federation_failed'],
  ['an ID token with another nonce', { claims: (c) => ({ ...c, nonce: 'a-nonce-from-another-login' }) }, 'federation_failed'],
  ['an ID token signed with a key the upstream never published', { foreignKey: true }, 'federation_failed'],
  ['an expired ID token', { claims: (c) => ({ ...c, iat: Number(c.iat) - 7200, exp: Number(c.iat) - 3600 }) }, 'federation_failed'],
  ['an acr the downstream does not map', { claims: (c) => ({ ...c, acr: 'urn:elsewhere:loa:low' }) }, 'federation_acr_unsupported'],
  ['an ID number that fails its check digit', { claims: (c) => ({ ...c, id_number: '350102198503150242' }) }, 'federation_claims_invalid'],
  ['a refusal at the upstream', { deny: true }, 'federation_denied'],
];

for (const [what, tampering, code] of spoiled) {
  test.serial(`${what} ends on a clear page and changes nothing`, async (t) => {
    const { auth, callback } = await returnFrom(tampering);
    const landed = await auth.browser.get(callback);
    t.true(landed.response.status >= 400);
    t.is(errorCode(landed.body), code);
    await nothingChanged(t);
    t.like(await lastFederationAudit(), { result: code === 'federation_failed' || code === 'federation_claims_invalid' ? 'failure' : 'denied', details: { upstream: UPSTREAM_ID } });
    // The login itself is still there: the person can choose another way.
    const login = await auth.browser.get(`/interaction/${auth.uid}`);
    t.is(login.response.status, 200);
  });
}

test.serial('a state issued to another browser\'s login is refused, and stays good for that login', async (t) => {
  const victim = await returnFrom({});
  const attacker = await chooseUpstream(downstream.url);
  // Through the fixed callback: the attacker's browser lacks the victim's interaction cookie.
  const viaCallback = await attacker.auth.browser.get(victim.callback);
  t.is(errorCode(viaCallback.body), 'interaction_expired');
  // Straight onto the attacker's own login: the state was not issued for it.
  const query = new URL(victim.callback).search;
  const onOwnLogin = await attacker.auth.browser.get(`/interaction/${attacker.auth.uid}/federation/${UPSTREAM_ID}/return${query}`);
  t.is(onOwnLogin.response.status, 400);
  t.is(errorCode(onOwnLogin.body), 'federation_state_invalid');
  t.like(await lastFederationAudit(), { result: 'failure', details: { reason: 'state_foreign' } });
  await nothingChanged(t);

  const landed = await victim.auth.browser.get(victim.callback);
  t.regex(landed.url, /\/federation$/);
});

test.serial('a replayed return from upstream is refused, even after a failed first use', async (t) => {
  const { auth, callback } = await returnFrom({ claims: (c) => ({ ...c, aud: 'some-other-client' }) });
  t.is(errorCode((await auth.browser.get(callback)).body), 'federation_failed');
  forged.tamper({});
  const again = await auth.browser.get(callback);
  t.is(again.response.status, 400);
  t.is(errorCode(again.body), 'federation_state_invalid');
  await nothingChanged(t);
});

test.serial('a state nobody issued is refused', async (t) => {
  const browser = new HttpBrowser(downstream.url);
  const made = await browser.get(`/federation/${UPSTREAM_ID}/callback?code=abc&state=${'x'.repeat(43)}`);
  t.is(made.response.status, 400);
  t.is(errorCode(made.body), 'federation_state_invalid');
});

test.serial('an upstream that is not configured is refused at the start and at the callback', async (t) => {
  const started = await chooseUpstream(downstream.url, 'nowhere');
  t.is(started.status, 404);
  t.is(errorCode(started.body), 'federation_upstream_unknown');
  const { callback } = await returnFrom({});
  const elsewhere = callback.replace(`/federation/${UPSTREAM_ID}/callback`, '/federation/nowhere/callback');
  const answer = await new HttpBrowser(downstream.url).get(elsewhere);
  t.is(answer.response.status, 404);
  t.is(errorCode(answer.body), 'federation_upstream_unknown');
  await nothingChanged(t);
});

test.serial('an upstream that cannot be reached gives a clear page, and the login page stays usable', async (t) => {
  const started = await chooseUpstream(downstream.url, 'offline');
  t.is(started.status, 503);
  t.is(errorCode(started.body), 'federation_unavailable');
  t.is((await started.auth.browser.get(`/interaction/${started.auth.uid}`)).response.status, 200);
});

test.serial('the first-login page opened in another browser shows nothing, and its posts (with the owner\'s CSRF token, twenty at once) create and link nothing; the owner\'s page stays', async (t) => {
  const { auth, callback } = await returnFrom({});
  const page = await auth.browser.get(callback);
  t.regex(page.url, /\/federation$/);
  const csrf = hidden(page.body, 'csrf');
  const firstLogin = `/interaction/${auth.uid}/federation`;
  const strangers = {
    'a browser with no login': new HttpBrowser(downstream.url),
    'a browser in a login of its own': (await chooseUpstream(downstream.url)).auth.browser,
  };
  for (const [who, stranger] of Object.entries(strangers)) {
    const seen = await stranger.get(firstLogin);
    t.is(seen.response.status, 400, who);
    t.is(errorCode(seen.body), 'interaction_expired', who);
    t.false(seen.body.includes('350102********0241'), `${who}: nothing of the person is shown`);
  }
  const browsers = Object.values(strangers);
  const posts = await Promise.all(Array.from({ length: 20 }, (_, i) => browsers[i % 2]!.post(`${firstLogin}/${i % 4 === 0 ? 'link' : 'create'}`, { csrf, accept_agreement: 'yes' })));
  t.deepEqual([...new Set(posts.map((p) => errorCode(p.body)))], ['interaction_expired']);
  await nothingChanged(t);

  const mine = await auth.browser.get(firstLogin);
  t.is(mine.response.status, 200);
  t.true(mine.body.includes(`${firstLogin}/create`), 'the owner can still create the account');
  t.false(mine.body.includes('data-error-code'));
});

test.serial('the first-login page needs its CSRF token and the service agreement before it creates anything', async (t) => {
  const { auth, callback } = await returnFrom({});
  const page = await auth.browser.get(callback);
  const csrf = hidden(page.body, 'csrf');
  const forgedPost = await auth.browser.post(`/interaction/${auth.uid}/federation/create`, { csrf: 'forged', accept_agreement: 'yes' });
  t.is(forgedPost.response.status, 403);
  const unagreed = await auth.browser.post(`/interaction/${auth.uid}/federation/create`, { csrf });
  t.is(errorCode(unagreed.body), 'agreement_required');
  await nothingChanged(t);

  const created = await auth.browser.post(`/interaction/${auth.uid}/federation/create`, { csrf, accept_agreement: 'yes' });
  const tokens = await portalTokens(downstream.url, auth, created.url);
  t.is(tokens.claims.acr, 'urn:civic-idp:loa:3', 'the upstream\'s loa:3 maps to level 3 here');
  t.deepEqual(tokens.claims.amr, ['fed']);
});

test('a server with an invalid UPSTREAM_IDPS_FILE does not start', async (t) => {
  const path = writeJson(scratch.dir, 'broken-upstreams.json', [upstreamEntry(forged.url, { acr_map: {} })]);
  const stores = isolatedEnv();
  t.teardown(() => stores.cleanup());
  await t.throwsAsync(startServer({ UPSTREAM_IDPS_FILE: path }, { stores }), { instanceOf: UpstreamIdpsFileError, message: /acr_map/ });
});
