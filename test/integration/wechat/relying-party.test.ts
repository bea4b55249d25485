import test from 'ava';
import * as oidc from 'openid-client';
import { maskName } from '../../../src/identity/masking.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson } from '../../helpers/account-centre.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { bindWithTicket, codeOf, MINIPROGRAM, WECHAT_GRANT, wechatFixtures } from '../../helpers/wechat.js';

/** The mini-program's grant seen from a relying-party library written by others (openid-client v6). */
let server: TestServer;
let fixtures: ReturnType<typeof wechatFixtures>;
test.before(async () => {
  fixtures = wechatFixtures(2);
  server = await startServer({ WECHAT: 'simulator', WECHAT_FIXTURES: fixtures.file });
});
test.after.always(async () => {
  await server?.close();
  fixtures?.cleanup();
});

const miniprogram = () => oidc.discovery(new URL(server.url), MINIPROGRAM.client_id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });

test.serial('openid-client: unbound gives a ResponseBodyError with the ticket; bound gives tokens it validates, userinfo and refresh', async (t) => {
  const config = await miniprogram();
  const unbound = await t.throwsAsync(oidc.genericGrantRequest(config, WECHAT_GRANT, { code: codeOf('p0'), scope: 'openid profile' }), { instanceOf: oidc.ResponseBodyError });
  t.is(unbound?.error, 'wechat_unbound');
  t.is(unbound?.status, 400);
  const ticket = (unbound?.cause as { binding_ticket?: string } | undefined)?.binding_ticket;
  t.truthy(ticket);

  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  t.is((await bindWithTicket(server, ticket!, person.phone, PASSWORD)).status, 201);

  // genericGrantRequest validates the ID token: signature, iss, aud, exp, iat.
  const tokens = await oidc.genericGrantRequest(config, WECHAT_GRANT, { code: codeOf('p0'), scope: 'openid profile' });
  const claims = tokens.claims();
  t.is(claims?.sub, id);
  t.deepEqual(claims?.amr, ['wechat']);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, id);
  t.is(info.name_masked, maskName(person.name), 'the mini-program\'s policy withholds the full name');
  t.is(info.name, undefined);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.is(refreshed.claims()?.sub, id);

  const replay = codeOf('p0');
  await oidc.genericGrantRequest(config, WECHAT_GRANT, { code: replay });
  const refused = await t.throwsAsync(oidc.genericGrantRequest(config, WECHAT_GRANT, { code: replay }), { instanceOf: oidc.ResponseBodyError });
  t.is(refused?.error, 'invalid_grant');
});
