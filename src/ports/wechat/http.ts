import { z } from 'zod';
import { UpstreamUnavailableError } from '../errors.js';
import { JsonHttpClient, systemClock, type UpstreamTuning } from '../http-client.js';
import { WECHAT_CODE, type CodeToSessionResult, type PhoneNumberResult, type WechatPort } from './types.js';

export interface HttpWechatOptions extends Omit<UpstreamTuning, 'apiToken'> {
  appId: string;
  appSecret: string;
  /** `https://api.weixin.qq.com` in production; a local fake in tests. */
  baseUrl: string;
}

/** WeChat answers 200 with `errcode` for every refusal; 0 or absent means success. */
const errorFields = { errcode: z.number().int().optional(), errmsg: z.string().optional() };
const sessionAnswer = z.object({ ...errorFields, openid: z.string().min(1).optional(), unionid: z.string().min(1).optional(), session_key: z.string().min(1).optional() });
const tokenAnswer = z.object({ ...errorFields, access_token: z.string().min(1).optional(), expires_in: z.number().int().positive().optional() });
const phoneAnswer = z.object({
  ...errorFields,
  phone_info: z.object({
    purePhoneNumber: z.string(),
    countryCode: z.string(),
    watermark: z.object({ appid: z.string() }).loose(),
  }).loose().optional(),
});

/** errcodes that mean "this code will never work": invalid (40029) and already used (40163). */
const CODE_REFUSED = new Set([40029, 40163]);
const USER_BLOCKED = 40226;
/** The access token is wrong or expired: fetch a new one and try once more. */
const TOKEN_STALE = new Set([40001, 42001]);
/** Renew the access token this long before WeChat says it expires. */
const TOKEN_MARGIN_SECONDS = 300;

/**
 * The WeChat server API over HTTPS (api.weixin.qq.com):
 * - `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`;
 * - `POST /cgi-bin/stable_token {grant_type, appid, secret}` for the access token, kept in
 *   memory until shortly before it expires;
 * - `POST /wxa/business/getuserphonenumber?access_token= {code}`.
 *
 * Redeeming a code is not idempotent (WeChat spends it on the first request), so those
 * calls are retried only when no connection was ever made; fetching the access token is.
 * The secret travels in the query string, as WeChat requires: errors never carry URLs.
 */
export class HttpWechat implements WechatPort {
  readonly kind = 'http' as const;
  readonly appId: string;
  private readonly appSecret: string;
  private readonly client: JsonHttpClient;
  private readonly now: () => number;
  private token: { value: string; until: number } | undefined;

  constructor(options: HttpWechatOptions) {
    const { appId, appSecret, baseUrl, ...tuning } = options;
    this.appId = appId;
    this.appSecret = appSecret;
    this.client = new JsonHttpClient({ ...tuning, upstream: 'wechat', baseUrl });
    this.now = () => (options.clock ?? systemClock).now();
  }

  private failed(errcode: number, what: string): UpstreamUnavailableError {
    // -1 is "system busy"; anything else means our app id, secret or quota is wrong.
    return new UpstreamUnavailableError('wechat', errcode === -1 ? 'server-error' : 'rejected', { detail: `${what}: errcode ${errcode}` });
  }

  async codeToSession(code: string): Promise<CodeToSessionResult> {
    if (!WECHAT_CODE.test(code)) return { ok: false, reason: 'invalid_code' };
    const query = new URLSearchParams({ appid: this.appId, secret: this.appSecret, js_code: code, grant_type: 'authorization_code' });
    const answer = await this.client.get(`sns/jscode2session?${query}`, { schema: sessionAnswer, idempotent: false });
    const errcode = answer.errcode ?? 0;
    if (CODE_REFUSED.has(errcode)) return { ok: false, reason: 'invalid_code' };
    if (errcode === USER_BLOCKED) return { ok: false, reason: 'user_blocked' };
    if (errcode !== 0) throw this.failed(errcode, 'jscode2session');
    if (!answer.openid || !answer.session_key) throw new UpstreamUnavailableError('wechat', 'malformed', { detail: 'jscode2session: no openid or session_key' });
    return {
      ok: true,
      session: { appId: this.appId, openid: answer.openid, ...(answer.unionid ? { unionid: answer.unionid } : {}), sessionKey: answer.session_key },
    };
  }

  async phoneNumber(code: string): Promise<PhoneNumberResult> {
    if (!WECHAT_CODE.test(code)) return { ok: false, reason: 'invalid_code' };
    let answer = await this.askPhone(code, await this.accessToken(false));
    if (TOKEN_STALE.has(answer.errcode ?? 0)) answer = await this.askPhone(code, await this.accessToken(true));
    const errcode = answer.errcode ?? 0;
    if (CODE_REFUSED.has(errcode)) return { ok: false, reason: 'invalid_code' };
    if (errcode !== 0) throw this.failed(errcode, 'getuserphonenumber');
    const info = answer.phone_info;
    if (!info || info.watermark.appid !== this.appId || !/^\d{5,15}$/.test(info.purePhoneNumber)) {
      throw new UpstreamUnavailableError('wechat', 'malformed', { detail: 'getuserphonenumber: no phone_info for this app' });
    }
    return { ok: true, phone: { phone: info.purePhoneNumber, countryCode: info.countryCode } };
  }

  private askPhone(code: string, token: string) {
    return this.client.post(`wxa/business/getuserphonenumber?${new URLSearchParams({ access_token: token })}`, { code }, { schema: phoneAnswer, idempotent: false });
  }

  /** The interface access token (接口调用凭据), from memory while it is fresh. */
  private async accessToken(renew: boolean): Promise<string> {
    if (!renew && this.token && this.now() < this.token.until) return this.token.value;
    const answer = await this.client.post('cgi-bin/stable_token', {
      grant_type: 'client_credential', appid: this.appId, secret: this.appSecret, force_refresh: renew,
    }, { schema: tokenAnswer, idempotent: true });
    if ((answer.errcode ?? 0) !== 0) throw this.failed(answer.errcode!, 'stable_token');
    if (!answer.access_token) throw new UpstreamUnavailableError('wechat', 'malformed', { detail: 'stable_token: no access_token' });
    const lifetime = Math.max(0, (answer.expires_in ?? 7200) - TOKEN_MARGIN_SECONDS);
    this.token = { value: answer.access_token, until: this.now() + lifetime * 1000 };
    return answer.access_token;
  }
}
