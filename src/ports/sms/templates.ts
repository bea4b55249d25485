import type { CodePurpose, SmsMessage } from './types.js';

/**
 * The texts we send, zh-CN only: carriers require the registered signature in 【】 and
 * approve each template, so the wording is fixed here and not in the message catalogues.
 * Code texts say what the code is for and warn against passing it on (the usual fraud
 * is someone "from the helpdesk" asking for it).
 */
export const SMS_SIGNATURE = '【统一身份认证平台】';

const DEFAULT_CODE_TTL_MINUTES = 5;

const CODE_TEMPLATES: Record<CodePurpose, (code: string, minutes: number) => string> = {
  register: (code, minutes) => `您的注册验证码为${code}，${minutes}分钟内有效。请勿泄露给他人。`,
  login: (code, minutes) => `您的登录验证码为${code}，${minutes}分钟内有效。请勿泄露给他人。`,
  reset: (code, minutes) => `您正在重置密码，验证码为${code}，${minutes}分钟内有效。如非本人操作，请忽略本短信。请勿泄露给他人。`,
  'rebind-old': (code, minutes) => `您正在更换账号绑定的手机号，验证码为${code}，${minutes}分钟内有效。如非本人操作，请立即修改密码。请勿泄露给他人。`,
  'rebind-new': (code, minutes) => `您正在将本手机号绑定到统一身份认证账号，验证码为${code}，${minutes}分钟内有效。请勿泄露给他人。`,
  verify: (code, minutes) => `您的身份验证码为${code}，${minutes}分钟内有效。工作人员不会向您索取验证码，请勿泄露给他人。`,
  enterprise: (code, minutes) => `有人正在以您作为法定代表人办理企业法人账号注册或认领，验证码为${code}，${minutes}分钟内有效。如非本人或本人授权操作，请勿提供。请勿泄露给他人。`,
  counter: (code, minutes) => `您正在政务服务大厅窗口办理统一身份认证账号业务，验证码为${code}，${minutes}分钟内有效。仅在窗口办理时告知工作人员，其他情况请勿泄露给任何人。`,
};

/** Things that happened to an account, told to the phone bound to it. */
export type SmsNotice =
  | { kind: 'password-reset'; at: Date }
  /** Sent to the old phone; `newPhone` must already be masked (138****0000). */
  | { kind: 'phone-changed'; at: Date; newPhone: string }
  | { kind: 'account-banned'; at: Date; reason?: string }
  | { kind: 'account-unbanned'; at: Date };

/** 2024年5月1日 14:05, in China Standard Time (UTC+8 all year, no daylight saving). */
export function formatChinaTime(at: Date): string {
  const local = new Date(at.getTime() + 8 * 3_600_000);
  const minutes = String(local.getUTCMinutes()).padStart(2, '0');
  const hours = String(local.getUTCHours()).padStart(2, '0');
  return `${local.getUTCFullYear()}年${local.getUTCMonth() + 1}月${local.getUTCDate()}日 ${hours}:${minutes}`;
}

const NOTICE_TEMPLATES: { [K in SmsNotice['kind']]: (notice: Extract<SmsNotice, { kind: K }>) => string } = {
  'password-reset': ({ at }) =>
    `您的账号密码已于${formatChinaTime(at)}重置成功。如非本人操作，请立即联系客服冻结账号。`,
  'phone-changed': ({ at, newPhone }) => {
    if (!/^1\d{2}\*{4}\d{4}$/.test(newPhone)) throw new TypeError('sms: newPhone must be masked, as 138****0000');
    return `您的账号绑定手机号已于${formatChinaTime(at)}更换为${newPhone}，本号码将不再接收该账号的通知。如非本人操作，请立即联系客服。`;
  },
  'account-banned': ({ at, reason }) =>
    `您的账号已于${formatChinaTime(at)}被停用${reason ? `，原因：${reason}` : ''}。如有疑问，请联系客服。`,
  'account-unbanned': ({ at }) => `您的账号已于${formatChinaTime(at)}恢复正常使用。`,
};

/** The text of a code message, signature included. */
export function codeText(purpose: CodePurpose, code: string, ttlMinutes = DEFAULT_CODE_TTL_MINUTES): string {
  if (!/^\d{4,8}$/.test(code)) throw new TypeError('sms: a code is 4 to 8 digits');
  return SMS_SIGNATURE + CODE_TEMPLATES[purpose](code, ttlMinutes);
}

/** The text of a notice, signature included. */
export function noticeText(notice: SmsNotice): string {
  const template = NOTICE_TEMPLATES[notice.kind] as (notice: SmsNotice) => string;
  return SMS_SIGNATURE + template(notice);
}

/** A ready-to-send code message. */
export function codeMessage(to: string, purpose: CodePurpose, code: string, ttlMinutes?: number): SmsMessage {
  return { to, purpose, code, text: codeText(purpose, code, ttlMinutes) };
}

/** A ready-to-send notice. */
export function noticeMessage(to: string, notice: SmsNotice): SmsMessage {
  return { to, purpose: 'notice', text: noticeText(notice) };
}
