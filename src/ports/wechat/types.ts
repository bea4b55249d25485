/**
 * The WeChat mini-program platform as the domain sees it (微信小程序服务端接口). Every
 * method either answers or throws UpstreamUnavailableError (ports/errors.ts); a code
 * WeChat does not accept is an answer (`ok: false`), never an error.
 *
 * Codes from the mini-program (`wx.login`, the phone-number button) are single use: the
 * second redemption of one code is refused by WeChat, and by the simulator alike.
 */

/** Who the person is in WeChat: `openid` per mini-program, `unionid` across the operator's apps. */
export interface WechatIdentity {
  appId: string;
  openid: string;
  unionid?: string;
}

export interface WechatSession extends WechatIdentity {
  /** The key the mini-program's encrypted data is sealed with; never stored or logged. */
  sessionKey: string;
}

/** `invalid_code`: unknown, expired or already used; `user_blocked`: WeChat refuses this user (risk control). */
export type WechatCodeRefusal = 'invalid_code' | 'user_blocked';

export type CodeToSessionResult = { ok: true; session: WechatSession } | { ok: false; reason: WechatCodeRefusal };

export interface WechatPhone {
  /** Without the country code, as shown to people: `13800138000`. */
  phone: string;
  countryCode: string;
}

export type PhoneNumberResult = { ok: true; phone: WechatPhone } | { ok: false; reason: 'invalid_code' };

export interface WechatPort {
  readonly kind: 'simulator' | 'http';
  /** The mini-program's app id (AppID): every identity this port returns belongs to it. */
  readonly appId: string;
  /** `jscode2session`: the code of `wx.login` for the person's openid (and unionid, when WeChat has one). */
  codeToSession(code: string): Promise<CodeToSessionResult>;
  /** `getuserphonenumber`: the code of the phone-number button for the number WeChat verified. */
  phoneNumber(code: string): Promise<PhoneNumberResult>;
}

/** What a code from the mini-program may look like: WeChat's are 32 characters; anything else is refused before a call. */
export const WECHAT_CODE = /^[A-Za-z0-9._-]{1,128}$/;
