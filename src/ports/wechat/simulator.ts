import { createHash, randomBytes } from 'node:crypto';
import { fixtureKey, type WechatFixtures } from './fixtures.js';
import { WECHAT_CODE, type CodeToSessionResult, type PhoneNumberResult, type WechatPort } from './types.js';

/** Where the simulator remembers spent codes: the cache, so every instance of a cluster agrees. */
export interface SpentCodes {
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
}

/** Long past any real code's five minutes: a spent fixture code stays spent for a day. */
const SPENT_SECONDS = 24 * 60 * 60;

/**
 * WeChat answered from fixtures, for development, tests and the bench. Like WeChat, it
 * accepts each code once: the first redemption marks it spent (atomically, in the cache),
 * a second one is `invalid_code`, as WeChat's errcode 40163 would be.
 */
export function createSimulatorWechat(fixtures: WechatFixtures, spent: SpentCodes): WechatPort {
  const spend = (kind: string, code: string) => {
    const digest = createHash('sha256').update(`${fixtures.appId}\0${kind}\0${code}`).digest('base64url');
    return spent.setIfAbsent(`wechat:simulator:${kind}:${digest}`, '1', SPENT_SECONDS);
  };

  return {
    kind: 'simulator',
    appId: fixtures.appId,
    async codeToSession(code): Promise<CodeToSessionResult> {
      if (!WECHAT_CODE.test(code)) return { ok: false, reason: 'invalid_code' };
      const key = fixtureKey(code);
      const blocked = fixtures.blockedCodes.includes(key);
      const person = fixtures.codes[key];
      if (!person && !blocked) return { ok: false, reason: 'invalid_code' };
      if (!await spend('login', code)) return { ok: false, reason: 'invalid_code' };
      if (blocked || !person) return { ok: false, reason: 'user_blocked' };
      return {
        ok: true,
        session: {
          appId: fixtures.appId,
          openid: person.openid,
          ...(person.unionid ? { unionid: person.unionid } : {}),
          sessionKey: randomBytes(16).toString('base64'),
        },
      };
    },
    async phoneNumber(code): Promise<PhoneNumberResult> {
      if (!WECHAT_CODE.test(code)) return { ok: false, reason: 'invalid_code' };
      const phone = fixtures.phoneCodes[fixtureKey(code)];
      if (!phone || !await spend('phone', code)) return { ok: false, reason: 'invalid_code' };
      return { ok: true, phone: { phone, countryCode: '86' } };
    },
  };
}
