/**
 * Why an account is banned: a fixed list (so reports can count them) plus free text.
 * `other` needs the text. The zh-CN label is what the SMS notice says.
 */
export const BAN_REASONS = {
  identity_fraud: '涉嫌冒用他人身份',
  account_compromised: '账号存在被盗用风险',
  abuse: '恶意注册或滥用服务',
  authority_request: '司法或监管机关要求',
  owner_request: '本人申请停用',
  other: '其他原因',
} as const;

export type BanReason = keyof typeof BAN_REASONS;

export function isBanReason(value: unknown): value is BanReason {
  return typeof value === 'string' && Object.hasOwn(BAN_REASONS, value);
}
