import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * The WeChat simulator's data (WECHAT_FIXTURES), written by hand for development and test
 * environments: which login codes name which WeChat identity, and which phone codes which
 * number. A wrong file stops start-up naming every problem.
 *
 * Codes are single use, so a fixture key stands for a family of codes: the key itself and
 * the key followed by `.` and any suffix (`zhangsan`, `zhangsan.1`, `zhangsan.2` …) each
 * work once and all name the same person.
 */
const key = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-" only (a "." starts the suffix)');
const openid = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be 6-64 letters, digits, "_" or "-"');

export const wechatFixturesSchema = z.object({
  appId: z.string().regex(/^wx[0-9a-f]{16}$/, 'must look like a mini-program AppID: wx and 16 hex digits'),
  codes: z.record(key, z.object({ openid, unionid: openid.optional() }).strict()).default({}),
  /** Codes WeChat refuses for risk control (errcode 40226). */
  blockedCodes: z.array(key).default([]),
  phoneCodes: z.record(key, z.string().regex(/^1[3-9]\d{9}$/, 'must be an 11-digit mainland mobile number')).default({}),
}).strict();

export type WechatFixtures = z.output<typeof wechatFixturesSchema>;

export function parseWechatFixtures(data: unknown, source = 'WECHAT_FIXTURES'): WechatFixtures {
  const parsed = wechatFixturesSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new TypeError(`${source}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export async function loadWechatFixtures(file: string): Promise<WechatFixtures> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new TypeError(`WECHAT_FIXTURES: cannot read ${file} as JSON`, { cause: error });
  }
  return parseWechatFixtures(data, `WECHAT_FIXTURES (${file})`);
}

/** The fixture key a code belongs to: `zhangsan.7` → `zhangsan`. */
export function fixtureKey(code: string): string {
  const dot = code.indexOf('.');
  return dot === -1 ? code : code.slice(0, dot);
}
