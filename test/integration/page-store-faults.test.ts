import test, { type ExecutionContext } from 'ava';
import { StoreUnavailableError } from '../../src/store/faults.js';
import { accountLogin, makePerson } from '../helpers/account-centre.js';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { portal, seedEnterprise } from '../helpers/delegation.js';
import { errorCode, hidden } from '../helpers/http-browser.js';
import { completeQr, openQrTab } from '../helpers/qr-login.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startForgedUpstream, type ForgedUpstream } from './federation/forged-upstream.js';
import { DOWNSTREAM_CLIENT, chooseUpstream, scratchDir, upstreamEntry, writeJson } from './federation/provinces.js';

/**
 * Three pages show something milder when one lookup fails (the QR tab a fresh code, the
 * login page no federation note, the delegations page no grants), but a store fault at that
 * lookup must still be the edge's 503 store_unavailable, never a wrong page. Stopping a store
 * cannot show it: the session or interaction lookup before it would fail first. So the fault
 * is injected at exactly that call, by wrapping the one method of `server.deps` it makes.
 */

let server: TestServer;
let upstream: ForgedUpstream;
let scratch: ReturnType<typeof scratchDir>;
test.before(async () => {
  upstream = await startForgedUpstream(DOWNSTREAM_CLIENT.client_id, { idNumber: '350102198503150241', name: '李娜' });
  scratch = scratchDir();
  server = await startServer({ UPSTREAM_IDPS_FILE: writeJson(scratch.dir, 'upstream-idps.json', [upstreamEntry(upstream.url)]) });
});
test.after.always(async () => {
  await server?.close();
  await upstream?.close();
  scratch?.cleanup();
});

/** Until the test ends, `object[method]` fails with the error last given to the returned function. */
function failAt<T extends object>(t: ExecutionContext, object: T, method: keyof T): (error: Error) => void {
  const original = object[method];
  let failure: Error | undefined;
  object[method] = (async () => { throw failure; }) as T[keyof T];
  t.teardown(() => { object[method] = original; });
  return (error) => { failure = error; };
}

function storeUnavailable(t: ExecutionContext, page: { response: Response; body: string }): void {
  t.is(page.response.status, 503);
  t.regex(page.response.headers.get('retry-after') ?? '', /^\d+$/);
  t.is(errorCode(page.body), 'store_unavailable');
}

// The tests share one server whose methods they replace, so they run one at a time.

test.serial('QR tab: the status of the code on the page', async (t) => {
  const page = await openQrTab(server.url);
  const failWith = failAt(t, server.deps.qrLogins, 'status');
  // Completing before the app confirms re-renders the tab, asking whether its code is still alive.
  failWith(new StoreUnavailableError('cache'));
  storeUnavailable(t, await completeQr(page));

  failWith(new Error('lost'));
  const refused = await completeQr(page);
  t.is(refused.response.status, 409);
  t.is(errorCode(refused.body), 'qr_pending');
  t.not(hidden(refused.body, 'qr'), page.id, 'a fresh code in place of one taken for expired');
});

test.serial('login page: the federation first-login note', async (t) => {
  const { auth, upstreamUrl } = await chooseUpstream(server.url);
  const first = await auth.browser.get((await fetch(upstreamUrl, { redirect: 'manual' })).headers.get('location')!);
  const linking = await auth.browser.post(`/interaction/${auth.uid}/federation/link`, { csrf: hidden(first.body, 'csrf') });
  const note = /请登录您在本平台的账号，登录后将与甲省统一身份认证平台的身份关联/;
  t.regex(linking.body, note);

  const failWith = failAt(t, server.deps.federation, 'firstLoginView');
  failWith(new StoreUnavailableError('cache'));
  storeUnavailable(t, await auth.browser.get(`/interaction/${auth.uid}`));

  failWith(new Error('lost'));
  const login = await auth.browser.get(`/interaction/${auth.uid}`);
  t.is(login.response.status, 200);
  t.notRegex(login.body, note);
  t.regex(login.body, /name="upstream" value="province-a"/, 'the upstream is still offered');
});

test.serial('delegations page: the grants of an enterprise one represents', async (t) => {
  const [rep, agent] = [makePerson('张法人'), makePerson('李代办')];
  const repId = await seedAccount(server.deps, rep);
  await seedAccount(server.deps, agent);
  const enterprise = await seedEnterprise(server, { accountId: repId, idNumber: rep.idNumber });
  const grant = await server.deps.delegations.grant(repId, {
    enterpriseId: enterprise.id, grantee: { phone: agent.phone }, scope: portal('tax.declare'), validUntil: new Date(Date.now() + 30 * 86_400_000), mayRedelegate: false,
  }, {});
  const { browser } = await accountLogin(server, rep.phone, PASSWORD);
  t.regex((await browser.get('/account/delegations')).body, new RegExp(`data-grant="${grant.id}"`));

  const failWith = failAt(t, server.deps.delegations, 'tree');
  failWith(new StoreUnavailableError('database'));
  storeUnavailable(t, await browser.get('/account/delegations'));

  failWith(new Error('lost'));
  const page = await browser.get('/account/delegations');
  t.is(page.response.status, 200);
  t.true(page.body.includes(enterprise.name));
  t.notRegex(page.body, /data-grant="/);
});
