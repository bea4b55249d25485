import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../helpers/accounts.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { discoverThree, rpLogin, threeClients, writeClientsFile } from '../helpers/relying-party.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * One login, every client: the SSO session of the portal, a second portal and the app,
 * its lifetimes (idle and absolute, from SESSION_IDLE_MINUTES and SESSION_MAX_HOURS) and
 * its id, which every login replaces.
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };
const IDLE_SECONDS = 5 * 60;
const MAX_SECONDS = 3600;

let server: TestServer;
let configs: Awaited<ReturnType<typeof discoverThree>>;
test.before(async () => {
  server = await startServer({ CLIENTS_FILE: writeClientsFile(threeClients()), SESSION_IDLE_MINUTES: '5', SESSION_MAX_HOURS: '1' });
  await seedAccount(server.deps, ZHANG_SAN);
  configs = await discoverThree(server.url);
});
test.after.always(async () => { await server?.close(); });

const sessionKey = (browser: HttpBrowser) => `oidc:Session:${browser.cookies().get('_session')}`;

async function storedSession(browser: HttpBrowser) {
  const record = await server.deps.cache.getRecord(sessionKey(browser));
  return record ? { payload: JSON.parse(record.value) as Record<string, unknown>, ttl: await server.deps.cache.ttl(sessionKey(browser)) } : undefined;
}

/** Moves the session's login back in time by `seconds`, as if it had happened that long ago. */
async function ageLogin(browser: HttpBrowser, seconds: number) {
  const key = sessionKey(browser);
  const record = await server.deps.cache.getRecord(key);
  const payload = JSON.parse(record!.value) as { loginTs: number };
  payload.loginTs -= seconds;
  await server.deps.cache.putRecord(key, JSON.stringify(payload), (await server.deps.cache.ttl(key))!);
}

test('after one login at the portal, the second portal and the app get tokens without a login page, with the same auth_time', async (t) => {
  const browser = new HttpBrowser(server.url);
  const portal = await rpLogin(configs.portal, browser, LOGIN);
  t.true(portal.loginShown);
  const portal2 = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' });
  const app = await rpLogin(configs.app, browser, undefined);
  t.false(portal2.loginShown);
  t.false(app.loginShown);
  const [a, b, c] = [portal, portal2, app].map((login) => login.tokens.claims()!);
  t.is(b!.sub, a!.sub);
  t.is(c!.sub, a!.sub);
  t.is(b!.auth_time, a!.auth_time, 'auth_time is the time of the one login, not of the silent authorization');
  t.is(c!.auth_time, a!.auth_time);
  t.is(b!.acr, a!.acr);
  t.truthy(app.tokens.refresh_token, 'the app gets a refresh token without offline_access');

  const other = new HttpBrowser(server.url);
  const refused = await rpLogin(configs.portal2, other, undefined, { prompt: 'none' }).catch((e: unknown) => e);
  t.is((refused as oidc.AuthorizationResponseError).error, 'login_required', 'another browser has no session');
});

test('the native app is never asked to log in again, but never authorized silently: prompt=none is interaction_required', async (t) => {
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal, browser, LOGIN);
  const silent = await rpLogin(configs.app, browser, undefined, { prompt: 'none' }).catch((e: unknown) => e);
  t.is((silent as oidc.AuthorizationResponseError).error, 'interaction_required');
  const confirmed = await rpLogin(configs.app, browser, undefined);
  t.false(confirmed.loginShown, 'one confirmation, no login page');
});

test('every login gets a new session id; the old id is gone from the store', async (t) => {
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal, browser, LOGIN);
  const first = browser.cookies().get('_session')!;
  t.truthy(first);
  t.truthy(await storedSession(browser));

  await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' });
  t.is(browser.cookies().get('_session'), first, 'a silent authorization keeps the session');

  const again = await rpLogin(configs.portal, browser, LOGIN, { prompt: 'login' });
  t.true(again.loginShown);
  const second = browser.cookies().get('_session')!;
  t.not(second, first, 'a new login, a new session id');
  t.is(await server.deps.cache.getRecord(`oidc:Session:${first}`), null, 'the old session id no longer names a session');
  t.truthy(await storedSession(browser));
});

test('a session id planted before the login is not the one the login gets', async (t) => {
  const attacker = new HttpBrowser(server.url);
  await rpLogin(configs.portal, attacker, LOGIN);
  const planted = attacker.cookies().get('_session')!;
  const plantedSig = attacker.cookies().get('_session.sig')!;

  // The victim's browser carries the attacker's (validly signed) cookie, then logs in.
  const victim = new HttpBrowser(server.url);
  victim.setCookie('_session', planted);
  victim.setCookie('_session.sig', plantedSig);
  await rpLogin(configs.portal, victim, LOGIN, { prompt: 'login' });
  t.not(victim.cookies().get('_session'), planted);
  t.is(await server.deps.cache.getRecord(`oidc:Session:${planted}`), null, 'the planted session is ended, so the attacker\'s cookie is worthless');
});

test('the session is stored for the idle lifetime, and never past the absolute one', async (t) => {
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal, browser, LOGIN);
  const stored = await storedSession(browser);
  t.true(stored!.ttl! <= IDLE_SECONDS && stored!.ttl! > IDLE_SECONDS - 30, `idle lifetime, got ${stored!.ttl}`);
  t.is((stored!.payload.exp as number) - (stored!.payload.iat as number), IDLE_SECONDS);

  // Each use grants the idle lifetime again, until the absolute lifetime since the login is near.
  await ageLogin(browser, MAX_SECONDS - 100);
  await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' });
  const capped = await storedSession(browser);
  t.true(capped!.ttl! <= 100, `capped at what is left of the absolute lifetime, got ${capped!.ttl}`);
});

test('a session past its absolute lifetime is over: prompt=none answers login_required', async (t) => {
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal, browser, LOGIN);
  await ageLogin(browser, MAX_SECONDS);
  // This use finds the session one last time and stores it for one second at most.
  await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' }).catch(() => undefined);
  t.true(((await storedSession(browser))?.ttl ?? 0) <= 1);
  while (await storedSession(browser)) await sleep(250);
  const refused = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' }).catch((e: unknown) => e);
  t.is((refused as oidc.AuthorizationResponseError).error, 'login_required');
});

test('max_age: a recent enough login is reused, an older one asks for a new login with a newer auth_time', async (t) => {
  const browser = new HttpBrowser(server.url);
  const first = await rpLogin(configs.portal, browser, LOGIN);
  const reused = await rpLogin(configs.portal2, browser, LOGIN, { max_age: '3600' });
  t.false(reused.loginShown);
  t.is(reused.tokens.claims()!.auth_time, first.tokens.claims()!.auth_time);

  await ageLogin(browser, 120);
  const refreshed = await rpLogin(configs.portal2, browser, LOGIN, { max_age: '60' });
  t.true(refreshed.loginShown, 'older than max_age: the login page again');
  // The aged session says the login was 120 s before the first one: an auth_time at or after the
  // first login's (both may fall in the same second) can only come from the new login.
  t.true(refreshed.tokens.claims()!.auth_time! >= first.tokens.claims()!.auth_time!, 'auth_time is the new login');
  const none = await rpLogin(configs.portal, browser, undefined, { prompt: 'none', max_age: '60' });
  t.is(none.tokens.claims()!.auth_time, refreshed.tokens.claims()!.auth_time, 'the new login now satisfies max_age');
});
