import test from 'ava';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { totpCode } from '../../helpers/account-centre.js';
import { HttpBrowser, errorCode, hidden } from '../../helpers/http-browser.js';
import { atUpstream, chooseUpstream, portalTokens, startProvinces, UPSTREAM_ID, type Provinces } from './provinces.js';

/** Registered in province A only. */
const LI_NA = { idNumber: '350102198503150241', name: '李娜', phone: '13905910001' };

let provinces: Provinces;
test.before(async () => {
  provinces = await startProvinces();
  await seedAccount(provinces.upstream.deps, LI_NA);
});
test.after.always(async () => { await provinces?.close(); });

async function accountRows(server: Provinces['downstream']) {
  return server.deps.database.db.selectFrom('accounts').selectAll().execute();
}

async function links(server: Provinces['downstream']) {
  return server.deps.database.db.selectFrom('federated_identities').selectAll().execute();
}

test.serial('a citizen of province A logs in to province B through federation: a local account from A\'s verified claims, amr fed, the mapped acr', async (t) => {
  const { downstream } = provinces;
  const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
  t.true(upstreamUrl.startsWith(`${provinces.upstream.url}/auth?`));
  const request = new URL(upstreamUrl).searchParams;
  t.is(request.get('code_challenge_method'), 'S256');
  t.truthy(request.get('nonce'));
  t.truthy(request.get('state'));

  const upstreamBrowser = new HttpBrowser(provinces.upstream.url);
  const back = await atUpstream(upstreamBrowser, upstreamUrl, { identifier: LI_NA.idNumber, password: PASSWORD });
  t.true(back.startsWith(`${downstream.url}/federation/${UPSTREAM_ID}/callback?`));

  const firstLogin = await auth.browser.get(back);
  t.is(firstLogin.response.status, 200);
  t.regex(firstLogin.url, new RegExp(`/interaction/${auth.uid}/federation$`));
  t.true(firstLogin.body.includes('*娜'));
  t.true(firstLogin.body.includes('350102********0241'));
  t.false(firstLogin.body.includes(LI_NA.idNumber));
  t.deepEqual(await accountRows(downstream), [], 'nothing is created before the person chooses');

  const created = await auth.browser.post(`/interaction/${auth.uid}/federation/create`, { csrf: hidden(firstLogin.body, 'csrf'), accept_agreement: 'yes' });
  const tokens = await portalTokens(downstream.url, auth, created.url);
  t.deepEqual(tokens.claims.amr, ['fed']);
  t.is(tokens.claims.acr, 'urn:civic-idp:loa:2');

  const [account] = await accountRows(downstream);
  t.is(tokens.claims.sub, account!.id);
  t.like(account, { registration_channel: 'federation', assurance_level: 2, password_hash: null, phone_idx: null, status: 'active' });
  const userinfo = await (await fetch(`${downstream.url}/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })).json() as Record<string, unknown>;
  // B's portal gets the name masked (its policy withholds it); the account holds it whole, from A's claims.
  t.like(userinfo, { sub: account!.id, name_masked: '*娜', id_number_masked: '350102********0241', assurance_level: 2 });
  t.is((await downstream.deps.accounts.profile(account!.id))?.name, LI_NA.name);

  const [link] = await links(downstream);
  t.like(link, { upstream_issuer: provinces.upstream.url, account_id: account!.id, upstream_id: UPSTREAM_ID, linked_by: 'created' });
  const audit = await downstream.deps.database.db.selectFrom('audit_log').select(['action', 'result', 'details']).where('target_id', '=', account!.id).orderBy('seq').execute();
  t.deepEqual(audit.map((row) => `${row.action}:${row.result}`), ['account.register:success', 'federation.link:success']);
  t.is(audit[0]!.details.channel, 'federation');

  // Replaying the return from upstream is refused and changes nothing.
  const replayed = await auth.browser.get(back);
  t.is(replayed.response.status, 400);
  t.is(errorCode(replayed.body), 'federation_state_invalid');
  t.is((await accountRows(downstream)).length, 1);
});

test.serial('a later login maps by the upstream issuer and subject to the same account', async (t) => {
  const { downstream } = provinces;
  const [account] = await accountRows(downstream);
  const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
  const upstreamBrowser = new HttpBrowser(provinces.upstream.url);
  const landed = await auth.browser.get(await atUpstream(upstreamBrowser, upstreamUrl, { identifier: LI_NA.phone, password: PASSWORD }));
  const tokens = await portalTokens(downstream.url, auth, landed.url);
  t.is(tokens.claims.sub, account!.id);
  t.deepEqual(tokens.claims.amr, ['fed']);
  t.is((await accountRows(downstream)).length, 1);
  t.truthy((await links(downstream))[0]!.last_login_at);
});

test.serial('an ID number already registered in province B is never linked automatically: the person must log in locally, then later logins map', async (t) => {
  const { downstream, upstream } = provinces;
  await seedAccount(upstream.deps, ZHANG_SAN);
  const localId = await seedAccount(downstream.deps, ZHANG_SAN, { password: 'Local-Password-2026!' });

  const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
  const upstreamBrowser = new HttpBrowser(upstream.url);
  const firstLogin = await auth.browser.get(await atUpstream(upstreamBrowser, upstreamUrl, { identifier: ZHANG_SAN.idNumber, password: PASSWORD }));
  t.true(firstLogin.body.includes('data-error-code') === false);
  t.false(firstLogin.body.includes('/federation/create'), 'no account can be created for an ID number that has one');
  const csrf = hidden(firstLogin.body, 'csrf');

  // Forcing creation anyway is refused; forcing a link without a local login does nothing.
  const forced = await auth.browser.post(`/interaction/${auth.uid}/federation/create`, { csrf, accept_agreement: 'yes' });
  t.is(errorCode(forced.body), 'already_registered');
  t.is((await links(downstream)).filter((link) => link.account_id === localId).length, 0);

  const chosen = await auth.browser.post(`/interaction/${auth.uid}/federation/link`, { csrf });
  t.regex(chosen.url, new RegExp(`/interaction/${auth.uid}$`));
  t.true(chosen.body.includes('甲省统一身份认证平台'), 'the login page says which identity will be linked');
  t.is((await links(downstream)).filter((link) => link.account_id === localId).length, 0);

  const wrong = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf, identifier: ZHANG_SAN.idNumber, password: PASSWORD });
  t.is(errorCode(wrong.body), 'login_failed', 'the upstream\'s password is not the local one');
  const local = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf, identifier: ZHANG_SAN.idNumber, password: 'Local-Password-2026!' });
  const tokens = await portalTokens(downstream.url, auth, local.url);
  t.is(tokens.claims.sub, localId);
  t.deepEqual(tokens.claims.amr, ['pwd']);
  t.like((await links(downstream)).find((link) => link.account_id === localId), { linked_by: 'local_login', upstream_issuer: upstream.url });

  // From now on the upstream login alone reaches the linked account.
  const again = await chooseUpstream(downstream.url);
  const landed = await again.auth.browser.get(await atUpstream(upstreamBrowser, again.upstreamUrl));
  const later = await portalTokens(downstream.url, again.auth, landed.url);
  t.is(later.claims.sub, localId);
  t.deepEqual(later.claims.amr, ['fed']);
});

test.serial('a local account of another person cannot be linked to an upstream identity', async (t) => {
  const { downstream, upstream } = provinces;
  const other = { idNumber: '350203199207210138', name: '陈伟', phone: '15859201234' };
  const inUpstream = { idNumber: '350105197806200159', name: '林建华', phone: '13600000001' };
  await seedAccount(upstream.deps, inUpstream);
  const otherId = await seedAccount(downstream.deps, other);

  const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
  const firstLogin = await auth.browser.get(await atUpstream(new HttpBrowser(upstream.url), upstreamUrl, { identifier: inUpstream.idNumber, password: PASSWORD }));
  const csrf = hidden(firstLogin.body, 'csrf');
  await auth.browser.post(`/interaction/${auth.uid}/federation/link`, { csrf });
  const refused = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf, identifier: other.idNumber, password: PASSWORD });
  t.is(refused.response.status, 409);
  t.is(errorCode(refused.body), 'federation_link_mismatch');
  t.is((await links(downstream)).filter((link) => link.account_id === otherId).length, 0);
  const audit = await downstream.deps.database.db.selectFrom('audit_log').select(['action', 'result']).where('target_id', '=', otherId).where('action', '=', 'federation.link').execute();
  t.deepEqual(audit, [{ action: 'federation.link', result: 'denied' }]);
});

test.serial('an account with two-step verification asks for its TOTP code after the upstream login, as every way in does', async (t) => {
  const { downstream } = provinces;
  const link = (await links(downstream)).find((row) => row.linked_by === 'created')!;
  const started = await downstream.deps.totpEnrolment.start(link.account_id);
  await downstream.deps.totpEnrolment.confirm(link.account_id, { code: await totpCode(started.secret) }, {});
  try {
    const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
    const landed = await auth.browser.get(await atUpstream(new HttpBrowser(provinces.upstream.url), upstreamUrl, { identifier: LI_NA.idNumber, password: PASSWORD }));
    t.true(landed.body.includes(`/interaction/${auth.uid}/login/totp`), 'no code before the second factor');
    const done = await auth.browser.post(`/interaction/${auth.uid}/login/totp`, { csrf: hidden(landed.body, 'csrf'), code: await totpCode(started.secret, 1) });
    const tokens = await portalTokens(downstream.url, auth, done.url);
    t.is(tokens.claims.sub, link.account_id);
    t.deepEqual(tokens.claims.amr, ['fed', 'otp', 'mfa']);
  } finally {
    await downstream.deps.database.db.updateTable('accounts').set({ totp_enabled_at: null, totp_secret_enc: null }).where('id', '=', link.account_id).execute();
  }
});

test.serial('a banned account stays banned when reached through federation', async (t) => {
  const { downstream } = provinces;
  const link = (await links(downstream)).find((row) => row.linked_by === 'created')!;
  await downstream.deps.accounts.update(link.account_id, { status: 'banned' });
  const { auth, upstreamUrl } = await chooseUpstream(downstream.url);
  const landed = await auth.browser.get(await atUpstream(new HttpBrowser(provinces.upstream.url), upstreamUrl, { identifier: LI_NA.idNumber, password: PASSWORD }));
  t.is(landed.response.status, 403);
  t.is(errorCode(landed.body), 'account_banned');
  const audit = await downstream.deps.database.db.selectFrom('audit_log').select(['action', 'result']).where('target_id', '=', link.account_id).orderBy('seq', 'desc').executeTakeFirstOrThrow();
  t.deepEqual(audit, { action: 'federation.login', result: 'denied' });
});
