import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { z } from 'zod';
import { UpstreamUnavailableError } from '../../src/ports/errors.js';
import { loadRegistryFixtures } from '../../src/ports/registries/fixtures.js';
import { createRegistries, type Registries } from '../../src/ports/registries/index.js';
import { createSimulatorRegistries } from '../../src/ports/registries/simulator.js';

/**
 * The Registries contract: one suite, run against the simulator and against the http
 * adapter talking to a throwaway upstream that implements the documented HTTP contract
 * over the same fixtures (in the manner of hono's common.case tests).
 */
const FIXTURES = resolve('config/fixtures/registries.example.json');
const TOKEN = 'contract-test-token';

type Override = (path: string, body: unknown) => { status: number; body: unknown } | undefined;

// What the upstream accepts: values already in normal form, so the adapter must send them so.
const idNumber = z.string().regex(/^\d{17}[\dX]$/);
const name = z.string().min(1).refine((value) => value === value.trim());
const phone = z.string().regex(/^\d{11}$/);
const compact = z.string().regex(/^\S+$/);
const routes: Record<string, z.ZodType> = {
  '/population/verify': z.strictObject({ idNumber, name }),
  '/carrier/verify': z.strictObject({ idNumber, name, phone }),
  '/social-security/verify': z.strictObject({ idNumber, name, cardNumber: compact }),
  '/bank-card/verify': z.strictObject({ idNumber, name, cardNumber: compact, phone }),
  '/housing-fund/verify': z.strictObject({ idNumber, name, accountNumber: compact }),
  '/driving-licence/verify': z.strictObject({ idNumber, name, fileNumber: compact }),
  '/business/lookup': z.strictObject({ uscc: z.string().regex(/^[0-9A-Z]{18}$/) }),
};

/** A stand-in for the province's exchange: the documented contract, answered from the fixtures. */
async function startUpstream(override?: Override) {
  const registries = createSimulatorRegistries(await loadRegistryFixtures(FIXTURES));
  // The request was checked against `routes` before it gets here.
  const answer = async (path: string, request: unknown): Promise<unknown> => {
    const body = request as never;
    switch (path) {
      case '/population/verify': return registries.population.verifyPerson(body);
      case '/carrier/verify': return registries.carrier.verifyPhone(body);
      case '/social-security/verify': return registries.socialSecurity.verifyCard(body);
      case '/bank-card/verify': return registries.bankCard.verifyCard(body);
      case '/housing-fund/verify': return registries.housingFund.verifyAccount(body);
      case '/driving-licence/verify': return registries.drivingLicence.verifyFileNumber(body);
      default: return registries.business.lookupEnterprise(body);
    }
  };
  const received: Array<{ path: string; body: unknown }> = [];
  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://upstream').pathname.replace(/^\/api\/v1/, '');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { error: 'invalid_json' });
    }
    received.push({ path, body });
    if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed' });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: 'unauthorized' });
    const overridden = override?.(path, body);
    if (overridden) return send(res, overridden.status, overridden.body);
    const schema = routes[path];
    if (!schema) return send(res, 404, { error: 'not_found' });
    if (!schema.safeParse(body).success) return send(res, 400, { error: 'invalid_request' });
    send(res, 200, await answer(path, body));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    received,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

interface Implementation {
  name: 'simulator' | 'http';
  open(): Promise<{ registries: Registries; close(): Promise<void> }>;
}

const implementations: Implementation[] = [
  {
    name: 'simulator',
    async open() {
      return { registries: await createRegistries({ kind: 'simulator', fixturesFile: FIXTURES }), close: async () => undefined };
    },
  },
  {
    name: 'http',
    async open() {
      const upstream = await startUpstream();
      const registries = await createRegistries({ kind: 'http', baseUrl: upstream.baseUrl, apiToken: TOKEN, timeoutMs: 5_000, retries: 0 });
      return { registries, close: upstream.close };
    },
  },
];

const ZHANG = { idNumber: '11010519491231002X', name: '张三' };
const LI = { idNumber: '350102198503150241', name: '李娜' };
const CHEN = { idNumber: '350203199207210138', name: '陈伟' };
const LIN = { idNumber: '350105197806200159', name: '林建华' };
const AYGUL = { idNumber: '650102199405230489', name: '阿依古丽·买买提' };
const WANG = { idNumber: '350583195505060422', name: '王秀英' };
const LIU = { idNumber: '350121198811110574', name: '刘洋' };
const HUANG = { idNumber: '310104200002290866', name: '黄丽' };
/** A valid ID number that no fixture holds. */
const STRANGER = { idNumber: '110101199003070011', name: '赵六' };

function registriesContract(implementation: Implementation) {
  const it = (title: string, body: (t: ExecutionContext, registries: Registries) => Promise<void>) => {
    test(`${implementation.name}: ${title}`, async (t) => {
      const opened = await implementation.open();
      t.teardown(() => opened.close());
      await body(t, opened.registries);
    });
  };

  it('reports its kind', async (t, registries) => {
    t.is(registries.kind, implementation.name);
  });

  // ---- population ----

  it('population: ID number and name that belong together match, with the status', async (t, { population }) => {
    t.deepEqual(await population.verifyPerson(ZHANG), { match: true, status: 'normal' });
    t.deepEqual(await population.verifyPerson(AYGUL), { match: true, status: 'normal' });
  });

  it('population: a wrong name does not match, yet the known ID number has a status', async (t, { population }) => {
    t.deepEqual(await population.verifyPerson({ ...ZHANG, name: '张四' }), { match: false, status: 'normal' });
    t.deepEqual(await population.verifyPerson({ idNumber: ZHANG.idNumber, name: LI.name }), { match: false, status: 'normal' });
  });

  it('population: an unknown ID number matches nothing and has no status', async (t, { population }) => {
    t.deepEqual(await population.verifyPerson(STRANGER), { match: false });
  });

  it('population: deceased and cancelled persons report their status', async (t, { population }) => {
    t.deepEqual(await population.verifyPerson(WANG), { match: true, status: 'deceased' });
    t.deepEqual(await population.verifyPerson(LIU), { match: true, status: 'cancelled' });
  });

  it('population: a lower-case x and surrounding white space are normalised', async (t, { population }) => {
    t.deepEqual(await population.verifyPerson({ idNumber: '11010519491231002x', name: ' 张三　' }), { match: true, status: 'normal' });
    t.deepEqual(await population.verifyPerson({ idNumber: ' 11010519491231002x ', name: '张三' }), { match: true, status: 'normal' });
  });

  // ---- carrier ----

  it('carrier: a phone registered in the person\'s name matches, every one of them', async (t, { carrier }) => {
    t.deepEqual(await carrier.verifyPhone({ ...ZHANG, phone: '13800138000' }), { match: true });
    t.deepEqual(await carrier.verifyPhone({ ...CHEN, phone: '15859201234' }), { match: true });
    t.deepEqual(await carrier.verifyPhone({ ...CHEN, phone: '18650001122' }), { match: true });
  });

  it('carrier: someone else\'s phone, a wrong name or an unknown person do not match', async (t, { carrier }) => {
    t.deepEqual(await carrier.verifyPhone({ ...ZHANG, phone: '13905910001' }), { match: false });
    t.deepEqual(await carrier.verifyPhone({ ...ZHANG, name: '张四', phone: '13800138000' }), { match: false });
    t.deepEqual(await carrier.verifyPhone({ ...STRANGER, phone: '13800138000' }), { match: false });
    t.deepEqual(await carrier.verifyPhone({ ...HUANG, phone: '13800138000' }), { match: false });
  });

  it('carrier: +86, 86, spaces, dashes and a lower-case x are normalised', async (t, { carrier }) => {
    for (const phone of ['+86 138 0013 8000', '86-138-0013-8000', '+8613800138000', '8613800138000', '138-0013-8000']) {
      t.deepEqual(await carrier.verifyPhone({ idNumber: '11010519491231002x', name: '张三', phone }), { match: true }, phone);
    }
    t.deepEqual(await carrier.verifyPhone({ ...ZHANG, phone: '+86 139 0591 0001' }), { match: false });
  });

  // ---- social security ----

  it('socialSecurity: the person\'s card matches; spaces in its number do not matter', async (t, { socialSecurity }) => {
    t.deepEqual(await socialSecurity.verifyCard({ ...ZHANG, cardNumber: '110105194912310021' }), { match: true });
    t.deepEqual(await socialSecurity.verifyCard({ ...ZHANG, cardNumber: '1101 0519 4912 3100 21' }), { match: true });
    t.deepEqual(await socialSecurity.verifyCard({ ...CHEN, cardNumber: 'D06512348' }), { match: true });
    t.deepEqual(await socialSecurity.verifyCard({ idNumber: '11010519491231002x', name: '张三', cardNumber: '110105194912310021' }), { match: true });
  });

  it('socialSecurity: another card, no card, a wrong name or an unknown person do not match', async (t, { socialSecurity }) => {
    t.deepEqual(await socialSecurity.verifyCard({ ...ZHANG, cardNumber: 'D06512348' }), { match: false });
    t.deepEqual(await socialSecurity.verifyCard({ ...LI, cardNumber: '110105194912310021' }), { match: false });
    t.deepEqual(await socialSecurity.verifyCard({ ...CHEN, name: '陈玮', cardNumber: 'D06512348' }), { match: false });
    t.deepEqual(await socialSecurity.verifyCard({ ...STRANGER, cardNumber: 'D06512348' }), { match: false });
  });

  // ---- bank card ----

  it('bankCard: card and reserved phone of the person match, however they are spaced', async (t, { bankCard }) => {
    t.deepEqual(await bankCard.verifyCard({ ...ZHANG, cardNumber: '6222020200112233445', phone: '13800138000' }), { match: true });
    t.deepEqual(await bankCard.verifyCard({ ...ZHANG, cardNumber: '6222 0202 0011 2233 445', phone: '+86 138-0013-8000' }), { match: true });
    t.deepEqual(await bankCard.verifyCard({ ...LI, cardNumber: '6217001830001234569', phone: '13905910001' }), { match: true });
  });

  it('bankCard: the reserved phone must be the card\'s, not merely the person\'s', async (t, { bankCard, carrier }) => {
    // 林建华's phone is 13959112345, but his card's reserved phone is 13799887766.
    t.deepEqual(await carrier.verifyPhone({ ...LIN, phone: '13959112345' }), { match: true });
    t.deepEqual(await bankCard.verifyCard({ ...LIN, cardNumber: '6228480402564890018', phone: '13959112345' }), { match: false });
    t.deepEqual(await bankCard.verifyCard({ ...LIN, cardNumber: '6228480402564890018', phone: '13799887766' }), { match: true });
  });

  it('bankCard: someone else\'s card, a wrong name or an unknown person do not match', async (t, { bankCard }) => {
    t.deepEqual(await bankCard.verifyCard({ ...ZHANG, cardNumber: '6217001830001234569', phone: '13905910001' }), { match: false });
    t.deepEqual(await bankCard.verifyCard({ ...ZHANG, name: '张四', cardNumber: '6222020200112233445', phone: '13800138000' }), { match: false });
    t.deepEqual(await bankCard.verifyCard({ ...STRANGER, cardNumber: '6222020200112233445', phone: '13800138000' }), { match: false });
    t.deepEqual(await bankCard.verifyCard({ ...HUANG, cardNumber: '6222020200112233445', phone: '13800138000' }), { match: false });
  });

  // ---- housing fund ----

  it('housingFund: the person\'s account matches; spaces do not matter', async (t, { housingFund }) => {
    t.deepEqual(await housingFund.verifyAccount({ ...ZHANG, accountNumber: '1100000012345' }), { match: true });
    t.deepEqual(await housingFund.verifyAccount({ ...ZHANG, accountNumber: '1100 0000 1234 5' }), { match: true });
    t.deepEqual(await housingFund.verifyAccount({ ...AYGUL, accountNumber: '650100011223' }), { match: true });
  });

  it('housingFund: another account, no account, a wrong name or an unknown person do not match', async (t, { housingFund }) => {
    t.deepEqual(await housingFund.verifyAccount({ ...ZHANG, accountNumber: '3502000087654321' }), { match: false });
    t.deepEqual(await housingFund.verifyAccount({ ...LI, accountNumber: '1100000012345' }), { match: false });
    t.deepEqual(await housingFund.verifyAccount({ ...AYGUL, name: '阿依古丽', accountNumber: '650100011223' }), { match: false });
    t.deepEqual(await housingFund.verifyAccount({ ...STRANGER, accountNumber: '1100000012345' }), { match: false });
  });

  // ---- driving licence ----

  it('drivingLicence: the person\'s file number matches; spaces do not matter', async (t, { drivingLicence }) => {
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...ZHANG, fileNumber: '110012345678' }), { match: true });
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...ZHANG, fileNumber: '1100 1234 5678' }), { match: true });
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...LIN, fileNumber: '350100456789' }), { match: true });
  });

  it('drivingLicence: another number, none, a wrong name or an unknown person do not match', async (t, { drivingLicence }) => {
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...ZHANG, fileNumber: '350100456789' }), { match: false });
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...CHEN, fileNumber: '110012345678' }), { match: false });
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...LIN, name: '林建', fileNumber: '350100456789' }), { match: false });
    t.deepEqual(await drivingLicence.verifyFileNumber({ ...STRANGER, fileNumber: '110012345678' }), { match: false });
  });

  // ---- business ----

  it('business: a known code gives the whole record', async (t, { business }) => {
    t.deepEqual(await business.lookupEnterprise({ uscc: '91350100M000100Y43' }), {
      found: true,
      uscc: '91350100M000100Y43',
      name: '福州示例科技有限公司',
      type: 'company',
      status: 'active',
      legalRepresentative: { name: '张三', idNumber: '11010519491231002X', phone: '13800138000' },
    });
  });

  it('business: types and statuses come through; a lower-case code is normalised', async (t, { business }) => {
    t.like(await business.lookupEnterprise({ uscc: '91350205MA31KR7T8A' }), { found: true, status: 'revoked', type: 'company' });
    t.like(await business.lookupEnterprise({ uscc: '91350583ma2xn4q61g' }), { found: true, status: 'cancelled', uscc: '91350583MA2XN4Q61G' });
    t.like(await business.lookupEnterprise({ uscc: '92350102MA2YJ0W847' }), { found: true, type: 'individual_business', legalRepresentative: { name: '李娜' } });
    t.like(await business.lookupEnterprise({ uscc: '513500005012345697' }), { found: true, type: 'social_organization' });
    t.like(await business.lookupEnterprise({ uscc: '1235000048812345XE' }), { found: true, type: 'public_institution' });
  });

  it('business: an unknown code is not found', async (t, { business }) => {
    t.deepEqual(await business.lookupEnterprise({ uscc: '91350100MA34UNK0X7' }), { found: false });
  });

  it('business: changing an answer does not change the registry', async (t, { business }) => {
    const first = await business.lookupEnterprise({ uscc: '91350100M000100Y43' });
    if (!first.found) return t.fail();
    first.legalRepresentative.name = '篡改';
    first.name = '篡改';
    t.like(await business.lookupEnterprise({ uscc: '91350100M000100Y43' }), { name: '福州示例科技有限公司', legalRepresentative: { name: '张三' } });
  });
}

for (const implementation of implementations) registriesContract(implementation);

// ---- the http adapter's own duties ----------------------------------------------------------

async function httpRegistries(t: ExecutionContext, override?: Override, options: { apiToken?: string; breakerThreshold?: number } = {}) {
  const upstream = await startUpstream(override);
  t.teardown(upstream.close);
  const registries = await createRegistries({ kind: 'http', baseUrl: upstream.baseUrl, apiToken: TOKEN, retries: 0, ...options });
  return { registries, upstream };
}

test('http: requests carry values in normal form to the documented paths', async (t) => {
  const { registries, upstream } = await httpRegistries(t);
  await registries.carrier.verifyPhone({ idNumber: '11010519491231002x', name: ' 张三 ', phone: '+86 138-0013-8000' });
  await registries.bankCard.verifyCard({ ...ZHANG, cardNumber: '6222 0202 0011 2233 445', phone: '86 13800138000' });
  await registries.business.lookupEnterprise({ uscc: ' 91350100m000100y43' });
  t.deepEqual(upstream.received, [
    { path: '/carrier/verify', body: { idNumber: '11010519491231002X', name: '张三', phone: '13800138000' } },
    { path: '/bank-card/verify', body: { idNumber: '11010519491231002X', name: '张三', cardNumber: '6222020200112233445', phone: '13800138000' } },
    { path: '/business/lookup', body: { uscc: '91350100M000100Y43' } },
  ]);
});

test('http: a wrong token is refused by the upstream and surfaces as an upstream failure', async (t) => {
  const { registries } = await httpRegistries(t, undefined, { apiToken: 'wrong' });
  const error = await t.throwsAsync(registries.population.verifyPerson(ZHANG), { instanceOf: UpstreamUnavailableError });
  t.is(error?.upstream, 'registry.population');
  t.is(error?.reason, 'rejected');
  t.is(error?.status, 401);
});

test('http: a malformed answer is a failure of the registry that gave it', async (t) => {
  const { registries } = await httpRegistries(t, (path) => {
    if (path === '/carrier/verify') return { status: 200, body: { match: 'true' } };
    if (path === '/population/verify') return { status: 200, body: { match: true, status: 'alive' } };
    if (path === '/business/lookup') return { status: 200, body: { found: true, uscc: '91350100M000100Y43' } };
    return undefined;
  });
  for (const [call, upstream] of [
    [() => registries.carrier.verifyPhone({ ...ZHANG, phone: '13800138000' }), 'registry.carrier'],
    [() => registries.population.verifyPerson(ZHANG), 'registry.population'],
    [() => registries.business.lookupEnterprise({ uscc: '91350100M000100Y43' }), 'registry.business'],
  ] as const) {
    const error = await t.throwsAsync(call(), { instanceOf: UpstreamUnavailableError });
    t.is(error?.reason, 'malformed');
    t.is(error?.upstream, upstream);
  }
  t.deepEqual(await registries.socialSecurity.verifyCard({ ...ZHANG, cardNumber: '110105194912310021' }), { match: true });
});

test('http: extra fields in an answer are dropped, not passed on', async (t) => {
  const { registries } = await httpRegistries(t, (path) =>
    path === '/housing-fund/verify' ? { status: 200, body: { match: true, balance: 12345, name: '张三' } } : undefined);
  t.deepEqual(await registries.housingFund.verifyAccount({ ...ZHANG, accountNumber: '1100000012345' }), { match: true });
});

test('http: an unreachable exchange fails naming the registry', async (t) => {
  const upstream = await startUpstream();
  await upstream.close();
  const registries = await createRegistries({ kind: 'http', baseUrl: upstream.baseUrl, retries: 0 });
  const error = await t.throwsAsync(registries.drivingLicence.verifyFileNumber({ ...ZHANG, fileNumber: '110012345678' }), { instanceOf: UpstreamUnavailableError });
  t.is(error?.upstream, 'registry.driving-licence');
  t.is(error?.reason, 'unreachable');
});

test('http: each registry has its own circuit', async (t) => {
  const { registries, upstream } = await httpRegistries(t, (path) => (path === '/population/verify' ? { status: 503, body: {} } : undefined), { breakerThreshold: 1 });
  t.is((await t.throwsAsync(registries.population.verifyPerson(ZHANG), { instanceOf: UpstreamUnavailableError }))?.reason, 'server-error');
  t.is((await t.throwsAsync(registries.population.verifyPerson(ZHANG), { instanceOf: UpstreamUnavailableError }))?.reason, 'circuit-open');
  t.deepEqual(await registries.carrier.verifyPhone({ ...ZHANG, phone: '13800138000' }), { match: true });
  t.is(upstream.received.filter((request) => request.path === '/population/verify').length, 1);
});

test('createRegistries refuses a broken fixtures file at start-up', async (t) => {
  await t.throwsAsync(createRegistries({ kind: 'simulator', fixturesFile: resolve('config/fixtures/no-such-file.json') }), { message: /no-such-file\.json/ });
});
