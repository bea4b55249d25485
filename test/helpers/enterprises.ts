import { PASSWORD, seedAccount } from './accounts.js';
import { appToken, latestCode } from './account-centre.js';
import type { Enterprise } from '../../src/ports/registries/index.js';
import type { TestServer } from './server.js';

/**
 * Makes the server's business register answer with `entries` (by code), and from its
 * fixtures otherwise: the test changes the map as the register would change.
 */
export function registerAnswering(server: TestServer, entries: Map<string, Enterprise>): void {
  const business = server.deps.registries.business;
  const lookup = business.lookupEnterprise.bind(business);
  (server.deps.registries as { business: typeof business }).business = {
    lookupEnterprise: async (query) => {
      const entry = entries.get(query.uscc);
      return entry ? { found: true, ...entry } : lookup(query);
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;
export interface Answer { status: number; body: Json }

/** Persons and enterprises of config/fixtures/registries.example.json. */
export const PERSONS = {
  zhangSan: { idNumber: '11010519491231002X', name: '张三', phone: '13800138000' },
  liNa: { idNumber: '350102198503150241', name: '李娜', phone: '13905910001' },
  chenWei: { idNumber: '350203199207210138', name: '陈伟', phone: '15859201234' },
  linJianhua: { idNumber: '350105197806200159', name: '林建华', phone: '13959112345' },
  ayguli: { idNumber: '650102199405230489', name: '阿依古丽·买买提', phone: '18999012345' },
};

export const ENTERPRISES = {
  /** Representative 张三, register phone 13800138000. */
  fuzhouTech: { uscc: '91350100M000100Y43', name: '福州示例科技有限公司' },
  /** Representative 李娜, register phone 13905910001. */
  fishBallShop: { uscc: '92350102MA2YJ0W847', name: '福州市鼓楼区李记鱼丸店' },
  /** Representative 林建华, register phone 13959112345. */
  association: { uscc: '513500005012345697', name: '福建省数字政务服务促进会' },
  /** Representative 陈伟, register phone 18650001122 (not the phone bound to his account). */
  xiamenSoftware: { uscc: '91350203MA8U2K5X1J', name: '厦门示例软件有限公司', registerPhone: '18650001122' },
  /** Representative 阿依古丽·买买提, register phone 18999012345. */
  logistics: { uscc: '91350100MA34TQ8P2K', name: '福州示例物流有限公司' },
  revoked: { uscc: '91350205MA31KR7T8A', name: '厦门海沧示例贸易有限公司' },
  cancelled: { uscc: '91350583MA2XN4Q61G', name: '南安市示例石材有限公司' },
};

/** Calls the JSON API with a bearer token: `call('POST', '/enterprises', {...})`. */
export function bearerApi(server: TestServer, token: string) {
  return async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) as Json : {} };
  };
}

export type Api = ReturnType<typeof bearerApi>;

/** A seeded real-name account with an app access token, and its API. */
export async function citizen(server: TestServer, person: { idNumber: string; name: string; phone: string }) {
  const id = await seedAccount(server.deps, person);
  return { id, person, api: await signedIn(server, person) };
}

export async function signedIn(server: TestServer, person: { phone: string }): Promise<Api> {
  const { accessToken } = await appToken(server, person.phone, PASSWORD);
  return bearerApi(server, accessToken);
}

/** Registers the enterprise as its representative, through the API, with the code sent to the register's phone. */
export async function registerAsRepresentative(server: TestServer, api: Api, enterprise: { uscc: string; name: string }, registerPhone: string): Promise<string> {
  const started = await api('POST', '/enterprises', { uscc: enterprise.uscc, name: enterprise.name });
  if (started.status !== 201) throw new Error(`start failed: ${JSON.stringify(started.body)}`);
  const code = await latestCode(server, registerPhone, 'enterprise');
  const done = await api('POST', `/enterprises/applications/${started.body.application.id}/confirm`, { code });
  if (done.status !== 200) throw new Error(`confirm failed: ${JSON.stringify(done.body)}`);
  return done.body.enterprise_id as string;
}

/** Sets the enterprise password as its representative, confirmed by the code sent to their own phone. */
export async function setEnterprisePassword(server: TestServer, api: Api, enterpriseId: string, phone: string, password: string): Promise<void> {
  await api('POST', '/account/codes', { operation: 'enterprise_password' });
  const set = await api('POST', `/enterprises/${enterpriseId}/password`, { password, code: await latestCode(server, phone, 'verify') });
  if (set.status !== 204) throw new Error(`enterprise password not set: ${JSON.stringify(set.body)}`);
}

/** Audit actions (with results) about one target. */
export async function auditOf(server: TestServer, targetId: string): Promise<string[]> {
  const rows = await server.deps.database.db.selectFrom('audit_log').select(['action', 'result']).where('target_id', '=', targetId).orderBy('seq').execute();
  return rows.map((r) => `${r.action}:${r.result}`);
}
