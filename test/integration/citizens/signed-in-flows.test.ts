import test from 'ava';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { accountLogin, appToken, latestCode, makePerson, outboxFile, postForm, startAccountServer } from '../../helpers/account-centre.js';
import { bearerApi, ENTERPRISES, PERSONS, type Answer } from '../../helpers/enterprises.js';
import { errorCode, type HttpBrowser } from '../../helpers/http-browser.js';
import { passwordLogin } from '../../helpers/oidc.js';
import type { TestServer } from '../../helpers/server.js';
import { MINIPROGRAM } from '../../helpers/wechat.js';

/**
 * A flow a signed-in person starts (phone re-binding, an enterprise application) belongs to
 * the session or token that started it, not to the account: another login of the same app,
 * the mini-program's token or a page session of the same person continues nothing.
 */

let server: TestServer;
test.before(async () => { server = await startAccountServer(); });
test.after.always(async () => { await server?.close(); });

/** The mini-program's token for the account APIs, from its own login. */
async function miniProgramToken(phone: string): Promise<string> {
  const login = await passwordLogin(server.url, MINIPROGRAM, phone, PASSWORD, { scope: 'openid account' });
  if (login.tokens.status !== 200) throw new Error(JSON.stringify(login.tokens.body));
  return login.tokens.body.access_token!;
}

/** The same person's other ways in: a second login of the app (another device) and the mini-program. */
async function otherTokensOf(phone: string) {
  return {
    'another login of the app': bearerApi(server, (await appToken(server, phone, PASSWORD)).accessToken),
    'the mini-program': bearerApi(server, await miniProgramToken(phone)),
  };
}

/** Twenty calls at once, spread over the other tokens. */
function twentyAtOnce(others: Record<string, ReturnType<typeof bearerApi>>, call: (api: ReturnType<typeof bearerApi>) => Promise<Answer>): Promise<Answer[]> {
  const apis = Object.values(others);
  return Promise.all(Array.from({ length: 20 }, (_, i) => call(apis[i % apis.length]!)));
}

/** The page a flow's URL shows in this browser, and whether it is the error page. */
async function pageOf(browser: HttpBrowser, path: string) {
  const page = await browser.get(path);
  return { status: page.response.status, error: errorCode(page.body), body: page.body };
}

test('phone re-binding started with the app\'s token: no other token of the person, twenty at once, and no page continues it; the owner does', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const owner = await appToken(server, person.phone, PASSWORD);
  const mine = bearerApi(server, owner.accessToken);
  const others = await otherTokensOf(person.phone);

  const started = await mine('POST', '/account/phone-rebinding', { path: 'old_phone' });
  t.is(started.status, 201, JSON.stringify(started.body));
  const flow = `/account/phone-rebinding/${started.body.flow_id}`;

  for (const [who, api] of Object.entries(others)) {
    t.is((await api('GET', flow)).body.error, 'flow_expired', who);
    t.is((await api('POST', `${flow}/old/code`, {})).body.error, 'flow_expired', who);
  }
  const sends = await twentyAtOnce(others, (api) => api('POST', `${flow}/old/code`, {}));
  t.deepEqual([...new Set(sends.map((a) => `${a.status} ${a.body.error}`))], ['400 flow_expired']);
  t.is(await latestOutboxCode(outboxFile(server), person.phone, 'rebind-old'), undefined, 'no code went out for them');
  // The browser the token was issued in has the person's page session: it is not the token's login.
  t.is((await pageOf(owner.browser, `/account/phone/${started.body.flow_id}`)).error, 'flow_expired');

  t.is((await mine('POST', `${flow}/old/code`, {})).status, 200);
  const code = await latestCode(server, person.phone, 'rebind-old');
  const verifies = await twentyAtOnce(others, (api) => api('POST', `${flow}/old/verify`, { code }));
  t.deepEqual([...new Set(verifies.map((a) => a.body.error))], ['flow_expired'], 'the right code does not help another token');
  t.is((await mine('GET', flow)).body.state, 'old_code', 'nothing they sent moved the flow');
  t.is((await mine('POST', `${flow}/old/verify`, { code })).body.state, 'new_code');
});

test('phone re-binding started in a page session: another browser signed in as the same person gets no form, and its posts change nothing', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const owner = await accountLogin(server, person.phone, PASSWORD);
  const choose = await owner.browser.get('/account/phone');
  const started = await postForm(owner.browser, choose.body, '/account/phone', { path: 'old_phone' });
  const flowId = /\/account\/phone\/([A-Za-z0-9_-]+)$/.exec(started.url)?.[1];
  t.truthy(flowId, started.url);

  const other = await accountLogin(server, person.phone, PASSWORD);
  const seen = await pageOf(other.browser, `/account/phone/${flowId}`);
  t.is(seen.error, 'flow_expired');
  t.false(seen.body.includes(`/account/phone/${flowId}/old/code`), 'no step form for the other session');
  // With a CSRF token of its own session, the other browser's post is refused all the same.
  const ownPage = await other.browser.get('/account/phone');
  const posts = await Promise.all(Array.from({ length: 20 }, () => postForm(other.browser, ownPage.body, `/account/phone/${flowId}/old/code`)));
  t.deepEqual([...new Set(posts.map((p) => errorCode(p.body)))], ['flow_expired']);
  t.is(await latestOutboxCode(outboxFile(server), person.phone, 'rebind-old'), undefined);

  const mine = await pageOf(owner.browser, `/account/phone/${flowId}`);
  t.is(mine.status, 200);
  const sent = await postForm(owner.browser, mine.body, `/account/phone/${flowId}/old/code`);
  t.regex(sent.url, /\?sent=1$/);
  t.truthy(await latestOutboxCode(outboxFile(server), person.phone, 'rebind-old'));
});

test('an enterprise application started with the app\'s token is continued only with it: other tokens and the page see it but cannot send or confirm, even with the right code', async (t) => {
  const person = PERSONS.zhangSan;
  await seedAccount(server.deps, person);
  const owner = await appToken(server, person.phone, PASSWORD);
  const mine = bearerApi(server, owner.accessToken);
  const others = await otherTokensOf(person.phone);

  const started = await mine('POST', '/enterprises', ENTERPRISES.fuzhouTech);
  t.is(started.status, 201, JSON.stringify(started.body));
  t.true(started.body.application.continues_here);
  const application = `/enterprises/applications/${started.body.application.id}`;
  const code = await latestCode(server, person.phone, 'enterprise');

  for (const [who, api] of Object.entries(others)) {
    const seen = await api('GET', application);
    t.is(seen.status, 200, who);
    t.false(seen.body.continues_here, who);
    t.false((await api('GET', '/enterprises')).body.applications.mine[0].continues_here, who);
    t.is((await api('POST', `${application}/code`, {})).body.error, 'flow_expired', who);
  }
  const confirms = await twentyAtOnce(others, (api) => api('POST', `${application}/confirm`, { code }));
  t.deepEqual([...new Set(confirms.map((a) => `${a.status} ${a.body.error}`))], ['400 flow_expired']);

  // The page session in the browser the token was issued in: the application is shown, without its steps.
  const page = `/account/enterprises/applications/${started.body.application.id}`;
  const shown = await pageOf(owner.browser, page);
  t.is(shown.status, 200);
  t.true(shown.body.includes('data-continue-elsewhere'));
  t.false(shown.body.includes(`${page}/confirm`));
  t.is(errorCode((await postForm(owner.browser, shown.body, `${page}/confirm`, { code })).body), 'flow_expired');

  t.is((await mine('GET', application)).body.status, 'pending');
  t.is(await server.deps.enterprises.byUscc(ENTERPRISES.fuzhouTech.uscc), undefined, 'nobody else registered it');
  const done = await mine('POST', `${application}/confirm`, { code });
  t.is(done.status, 200, JSON.stringify(done.body));
  t.truthy(done.body.enterprise_id);
});
