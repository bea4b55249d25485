import test from 'ava';
import { latestCode, otherCode, startAccountServer } from '../../helpers/account-centre.js';
import { ENTERPRISES, PERSONS, auditOf, citizen, type Api } from '../../helpers/enterprises.js';
import type { TestServer } from '../../helpers/server.js';
import { usccCheckCharacter } from '../../../src/identity/uscc.js';

let server: TestServer;
let lookups = 0;
const people = {} as Record<keyof typeof PERSONS, { id: string; api: Api }>;

test.before(async () => {
  server = await startAccountServer();
  // Count the calls that reach the business register.
  const business = server.deps.registries.business;
  const lookup = business.lookupEnterprise.bind(business);
  (server.deps.registries as { business: typeof business }).business = { lookupEnterprise: (query) => { lookups += 1; return lookup(query); } };
  for (const key of Object.keys(PERSONS) as Array<keyof typeof PERSONS>) people[key] = await citizen(server, PERSONS[key]);
});
test.after.always(async () => { await server?.close(); });

const applications = () => server.deps.database.db.selectFrom('enterprise_applications').selectAll().execute();
const enterprises = () => server.deps.database.db.selectFrom('enterprises').selectAll().execute();

test.serial('a code with a wrong check character is refused before the register is asked, and nothing is stored', async (t) => {
  const before = { lookups, applications: (await applications()).length };
  const wrong = `${ENTERPRISES.fuzhouTech.uscc.slice(0, 17)}Y`;
  for (const uscc of [wrong, '91350100M000100Y4', '91350100M000100I43']) {
    const answer = await people.zhangSan.api('POST', '/enterprises', { uscc, name: ENTERPRISES.fuzhouTech.name });
    t.is(answer.status, 400);
    t.is(answer.body.error, 'invalid_uscc');
    t.truthy(answer.body.message_zh);
    t.truthy(answer.body.message_en);
  }
  t.is(lookups, before.lookups, 'the register was not called');
  t.is((await applications()).length, before.applications);
});

test.serial('an enterprise not on the register, revoked or cancelled is refused', async (t) => {
  // A valid code nobody registered: its check character is computed.
  const unknown = '91350100MA0000000';
  const notThere = await people.zhangSan.api('POST', '/enterprises', { uscc: unknown + usccCheckCharacter(unknown), name: '不存在的公司' });
  t.is(notThere.status, 400);
  t.is(notThere.body.error, 'enterprise_not_in_registry');
  for (const entry of [ENTERPRISES.revoked, ENTERPRISES.cancelled]) {
    const answer = await people.chenWei.api('POST', '/enterprises', entry);
    t.is(answer.status, 400);
    t.is(answer.body.error, 'enterprise_not_active');
  }
  t.is((await enterprises()).length, 0);
  t.is((await applications()).length, 0);
});

test.serial('a name that differs from the register, or a registrant who is not the representative, is refused', async (t) => {
  const wrongName = await people.zhangSan.api('POST', '/enterprises', { uscc: ENTERPRISES.fuzhouTech.uscc, name: '福州示例科技股份有限公司' });
  t.is(wrongName.status, 400);
  t.is(wrongName.body.error, 'enterprise_name_mismatch');
  const notRepresentative = await people.liNa.api('POST', '/enterprises', ENTERPRISES.fuzhouTech);
  t.is(notRepresentative.status, 400);
  t.is(notRepresentative.body.error, 'enterprise_representative_mismatch');
  t.is((await applications()).length, 0);
  t.deepEqual((await auditOf(server, ENTERPRISES.fuzhouTech.uscc)), ['enterprise.register:denied']);
});

test.serial('a level-1 account cannot register an enterprise', async (t) => {
  await server.deps.accounts.update(people.liNa.id, { assurance_level: 1 });
  try {
    // The token issued before still works; the account is now level 1.
    const answer = await people.liNa.api('POST', '/enterprises', ENTERPRISES.fishBallShop);
    t.is(answer.status, 403);
    t.is(answer.body.error, 'assurance_too_low');
    t.is((await applications()).length, 0);
  } finally {
    await server.deps.accounts.update(people.liNa.id, { assurance_level: 2 });
  }
});

test.serial('the representative registers with the code sent to the phone on the register; a wrong code binds nothing', async (t) => {
  const started = await people.zhangSan.api('POST', '/enterprises', { uscc: ` ${ENTERPRISES.fuzhouTech.uscc.toLowerCase()} `, name: ENTERPRISES.fuzhouTech.name });
  t.is(started.status, 201);
  t.is(started.body.code_sent_to, '138****8000');
  t.is(started.body.application.status, 'pending');
  const id = started.body.application.id as string;
  const code = await latestCode(server, PERSONS.zhangSan.phone, 'enterprise');

  const wrong = await people.zhangSan.api('POST', `/enterprises/applications/${id}/confirm`, { code: otherCode(code) });
  t.is(wrong.status, 400);
  t.is(wrong.body.error, 'code_invalid');
  t.is((await enterprises()).length, 0);

  // Only the applicant can use the code.
  const stranger = await people.liNa.api('POST', `/enterprises/applications/${id}/confirm`, { code });
  t.is(stranger.body.error, 'enterprise_application_not_found');
  t.is((await enterprises()).length, 0);

  const done = await people.zhangSan.api('POST', `/enterprises/applications/${id}/confirm`, { code });
  t.is(done.status, 200);
  t.is(done.body.application.status, 'approved');

  const mine = await people.zhangSan.api('GET', '/enterprises');
  t.is(mine.status, 200);
  t.is(mine.body.enterprises.length, 1);
  t.like(mine.body.enterprises[0], {
    id: done.body.enterprise_id, uscc: ENTERPRISES.fuzhouTech.uscc, name: ENTERPRISES.fuzhouTech.name, type: 'company',
    role: 'legal_representative', level: 0, registry_status: 'active', enterprise_password_set: false,
  });
  const one = await people.zhangSan.api('GET', `/enterprises/${done.body.enterprise_id}`);
  t.is(one.body.uscc, ENTERPRISES.fuzhouTech.uscc);
  t.is((await people.liNa.api('GET', `/enterprises/${done.body.enterprise_id}`)).body.error, 'enterprise_not_representative');
  t.deepEqual(await auditOf(server, done.body.enterprise_id), ['enterprise.register:success']);
  t.true((await auditOf(server, id)).includes('enterprise.register:failure'));
});

test.serial('a registered enterprise cannot be registered again', async (t) => {
  const again = await people.zhangSan.api('POST', '/enterprises', ENTERPRISES.fuzhouTech);
  t.is(again.status, 409);
  t.is(again.body.error, 'enterprise_already_registered');
  const byOther = await people.liNa.api('POST', '/enterprises', { ...ENTERPRISES.fuzhouTech, on_behalf: true });
  t.is(byOther.status, 409);
  t.is(byOther.body.error, 'enterprise_already_registered');
  t.is((await enterprises()).filter((e) => e.uscc === ENTERPRISES.fuzhouTech.uscc).length, 1);
});

test.serial('parallel registrations of one code: exactly one proceeds, and one account results', async (t) => {
  const api = people.linJianhua.api;
  const answers = await Promise.all(Array.from({ length: 6 }, () => api('POST', '/enterprises', ENTERPRISES.association)));
  const created = answers.filter((a) => a.status === 201);
  t.is(created.length, 1, JSON.stringify(answers.map((a) => a.body.error ?? a.status)));
  for (const refused of answers.filter((a) => a.status !== 201)) {
    t.is(refused.status, 409);
    t.is(refused.body.error, 'enterprise_application_pending');
  }
  const id = created[0]!.body.application.id as string;
  const code = await latestCode(server, PERSONS.linJianhua.phone, 'enterprise');
  const confirms = await Promise.all(Array.from({ length: 4 }, () => api('POST', `/enterprises/applications/${id}/confirm`, { code })));
  t.is(confirms.filter((a) => a.status === 200).length, 1, JSON.stringify(confirms.map((a) => a.body.error ?? a.status)));
  t.true(confirms.filter((a) => a.status !== 200).every((a) => ['code_invalid', 'enterprise_application_not_found'].includes(a.body.error)));
  t.is((await enterprises()).filter((e) => e.uscc === ENTERPRISES.association.uscc).length, 1);
});

test.serial('someone else applies; only the representative may approve, and the account is bound to the representative', async (t) => {
  const started = await people.liNa.api('POST', '/enterprises', { ...ENTERPRISES.xiamenSoftware, on_behalf: true });
  t.is(started.status, 201);
  t.is(started.body.code_sent_to, undefined, 'no code until the applicant asks for one');
  const id = started.body.application.id as string;

  // Not the representative: refused, audited, and the application is untouched.
  for (const who of [people.zhangSan, people.liNa]) {
    const answer = await who.api('POST', `/enterprises/applications/${id}/approve`);
    t.is(answer.status, 403);
    t.is(answer.body.error, 'enterprise_not_representative');
  }
  t.is((await people.liNa.api('GET', `/enterprises/applications/${id}`)).body.status, 'pending');
  t.true((await auditOf(server, id)).includes('enterprise.application.approve:denied'));

  const waiting = await people.chenWei.api('GET', '/enterprises');
  t.deepEqual(waiting.body.applications.awaiting_me.map((a: { id: string }) => a.id), [id]);
  const approved = await people.chenWei.api('POST', `/enterprises/applications/${id}/approve`);
  t.is(approved.status, 200);
  const held = await people.chenWei.api('GET', '/enterprises');
  t.deepEqual(held.body.enterprises.map((e: { uscc: string }) => e.uscc), [ENTERPRISES.xiamenSoftware.uscc]);
  t.deepEqual((await people.liNa.api('GET', '/enterprises')).body.enterprises, []);
  t.deepEqual(await auditOf(server, approved.body.enterprise_id), ['enterprise.register:success']);
});

test.serial('someone else applies and finishes with the code the representative received on the register phone', async (t) => {
  const started = await people.linJianhua.api('POST', '/enterprises', { ...ENTERPRISES.logistics, on_behalf: true });
  t.is(started.status, 201);
  const id = started.body.application.id as string;
  const sent = await people.linJianhua.api('POST', `/enterprises/applications/${id}/code`, {});
  t.is(sent.body.code_sent_to, '189****2345');
  const code = await latestCode(server, PERSONS.ayguli.phone, 'enterprise');
  const done = await people.linJianhua.api('POST', `/enterprises/applications/${id}/confirm`, { code });
  t.is(done.status, 200);
  const row = await server.deps.enterprises.byId(done.body.enterprise_id);
  t.is(row?.representative_account_id, people.ayguli.id);
  t.deepEqual((await people.ayguli.api('GET', '/enterprises')).body.enterprises.map((e: { uscc: string }) => e.uscc), [ENTERPRISES.logistics.uscc]);
});

test.serial('the representative\'s own application completes only with the code, never by approving it', async (t) => {
  const started = await people.liNa.api('POST', '/enterprises', ENTERPRISES.fishBallShop);
  t.is(started.status, 201);
  const id = started.body.application.id as string;
  const approve = await people.liNa.api('POST', `/enterprises/applications/${id}/approve`);
  t.is(approve.status, 403);
  t.is(approve.body.error, 'enterprise_not_representative');
  t.is((await enterprises()).filter((e) => e.uscc === ENTERPRISES.fishBallShop.uscc).length, 0);
  const withdrawn = await people.liNa.api('POST', `/enterprises/applications/${id}/withdraw`);
  t.is(withdrawn.body.status, 'withdrawn');
});

test.serial('once the representative rejects someone\'s application, that person may not ask again for seven days; others still may', async (t) => {
  const asked = await people.zhangSan.api('POST', '/enterprises', { ...ENTERPRISES.fishBallShop, on_behalf: true });
  t.is(asked.status, 201);
  const rejected = await people.liNa.api('POST', `/enterprises/applications/${asked.body.application.id}/reject`);
  t.is(rejected.body.status, 'rejected');
  const again = await people.zhangSan.api('POST', '/enterprises', { ...ENTERPRISES.fishBallShop, on_behalf: true });
  t.is(again.status, 409);
  t.is(again.body.error, 'enterprise_application_rejected');
  t.true((await auditOf(server, ENTERPRISES.fishBallShop.uscc)).includes('enterprise.application.start:denied'));
  const other = await people.chenWei.api('POST', '/enterprises', { ...ENTERPRISES.fishBallShop, on_behalf: true });
  t.is(other.status, 201, JSON.stringify(other.body));
});

test.serial('someone else\'s pending application cannot hold an enterprise against its representative: ten own applications at once supersede it, and one proceeds', async (t) => {
  const pending = (await applications()).find((a) => a.uscc === ENTERPRISES.fishBallShop.uscc && a.status === 'pending');
  t.is(pending?.applicant_account_id, people.chenWei.id, 'chen wei\'s application from the test before is pending');
  const blocked = await people.zhangSan.api('POST', '/enterprises', { ...ENTERPRISES.fishBallShop, on_behalf: true });
  t.is(blocked.body.error, 'enterprise_application_rejected');

  const own = await Promise.all(Array.from({ length: 10 }, () => people.liNa.api('POST', '/enterprises', ENTERPRISES.fishBallShop)));
  const started = own.filter((a) => a.status === 201);
  t.is(started.length, 1, JSON.stringify(own.map((a) => a.body.error ?? a.status)));
  t.true(own.filter((a) => a.status !== 201).every((a) => a.body.error === 'enterprise_application_pending'));

  const superseded = await people.chenWei.api('GET', `/enterprises/applications/${pending!.id}`);
  t.is(superseded.body.status, 'superseded');
  t.deepEqual(await auditOf(server, pending!.id), ['enterprise.application.start:success', 'enterprise.application.supersede:success']);
  const resend = await people.chenWei.api('POST', `/enterprises/applications/${pending!.id}/code`, {});
  t.is(resend.body.error, 'enterprise_application_not_found', 'a superseded application can no longer be completed');

  const code = await latestCode(server, PERSONS.liNa.phone, 'enterprise');
  const done = await people.liNa.api('POST', `/enterprises/applications/${started[0]!.body.application.id}/confirm`, { code });
  t.is(done.status, 200);
  t.is((await server.deps.enterprises.byId(done.body.enterprise_id))?.representative_account_id, people.liNa.id);
});
