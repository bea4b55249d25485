import type { Provider } from 'oidc-provider';
import { translate, type Locale, type MessageKey } from '../../i18n/messages.js';
import { POLICY_PROMPT, STEP_UP_REASON } from '../../oidc/configuration/policy.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

function methodNames(locale: Locale, methods: unknown): string {
  const list = Array.isArray(methods) ? methods.map(String) : [];
  return list.map((method) => translate(locale, `policy.method.${method}` as MessageKey)).join(locale === 'en' ? ', ' : '、');
}

export function isPolicyRefusal(details: Details): boolean {
  return details.prompt.name === POLICY_PROMPT;
}

/**
 * What the refusal page says: why the client's policy excludes the person and what they
 * can do about it (a counter visit for level 3, turning on two-step verification, asking
 * the department). The page offers only a way back to the client (which then receives
 * access_denied); it never leads to a token.
 */
export function refusalView(details: Details, locale: Locale, client: string) {
  const { policy_reason: reason, policy_level: level, policy_methods: methods } = details.prompt.details as Record<string, unknown>;
  const list = Array.isArray(methods) ? methods.map(String) : [];
  const needsTotp = reason === 'login_method' && (list.includes('otp') || list.includes('mfa'));
  const todo = reason === 'assurance_level' ? `policy.todo.assurance_level_${level === 3 ? 3 : 2}`
    : needsTotp ? 'policy.todo.login_method_totp' : `policy.todo.${String(reason)}`;
  // The one step that gets the person through, where the account centre offers it.
  const action = needsTotp ? { href: '/account/totp', label: translate(locale, 'policy.action.totp') }
    : reason === 'entity_type' ? { href: '/account/enterprises', label: translate(locale, 'policy.action.enterprises') }
    : undefined;
  return {
    reason: String(reason),
    why: translate(locale, `policy.reason.${String(reason)}` as MessageKey, { client, level: Number(level), methods: methodNames(locale, methods) }),
    todo: translate(locale, todo as MessageKey),
    action,
  };
}

/**
 * The login page's note when the client needs more than the current session proves, and
 * which of the page's tabs can satisfy it. Undefined for an ordinary login.
 */
export function stepUpView(details: Details, locale: Locale, client: string) {
  if (!details.prompt.reasons.includes(STEP_UP_REASON)) return undefined;
  const { policy_reason: reason, policy_methods: methods } = details.prompt.details as Record<string, unknown>;
  const list = Array.isArray(methods) ? methods.map(String) : [];
  const withTotp = list.includes('otp') || list.includes('mfa');
  return {
    message: translate(locale, reason === 'assurance_level' ? 'policy.step_up.level' : 'policy.step_up.method', { client, methods: methodNames(locale, list) }),
    // TOTP comes after either first factor; otherwise only the tabs the policy names.
    password: withTotp || list.includes('pwd'),
    sms: withTotp || list.includes('sms'),
  };
}
