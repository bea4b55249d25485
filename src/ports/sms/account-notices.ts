import { formatChinaTime, SMS_SIGNATURE } from './templates.js';
import type { SmsMessage } from './types.js';

/**
 * Notices about account-centre changes that templates.ts has no wording for. Fixed texts,
 * zh-CN only, signature first, like every approved template.
 */

/** Sent to a phone just bound to an account, so a number bound by someone else's hand is noticed. */
export function phoneBoundMessage(to: string, at: Date): SmsMessage {
  return {
    to,
    purpose: 'notice',
    text: `${SMS_SIGNATURE}本号码已于${formatChinaTime(at)}绑定为统一身份认证平台账号的手机号，今后将用于登录和接收账号通知。如非本人操作，请立即联系客服。`,
  };
}
