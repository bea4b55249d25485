import { isMessageKey, translate, type Locale, type MessageKey } from '../../i18n/messages.js';

/**
 * A security record's details as a citizen reads them on 安全记录: each known detail as a
 * labelled phrase in the page's language (login methods, the service, the verification
 * used), never raw keys or codes. Details with no meaning for the citizen (internal
 * reasons, counters) are left out; the record itself stays complete in the audit log.
 */
export function describeEventDetails(locale: Locale, details: Record<string, unknown>, clientNames: Record<string, string>): string[] {
  const label = (key: MessageKey, value: string) => translate(locale, 'event.detail', { label: translate(locale, key), value });
  const named = (prefix: string, code: unknown) => {
    const key = `${prefix}.${String(code)}`;
    return isMessageKey(key) ? translate(locale, key) : undefined;
  };
  const list = (prefix: string, codes: unknown) => (Array.isArray(codes) ? codes : [codes])
    .map((code) => named(prefix, code)).filter((name): name is string => Boolean(name));
  const lines: string[] = [];

  const methods = list('amr', details.amr ?? details.method);
  if (methods.length > 0) lines.push(label('event.detail_method', methods.join(' + ')));
  if (typeof details.client_id === 'string') lines.push(label('event.detail_service', clientNames[details.client_id] ?? details.client_id));
  if (typeof details.approved_with === 'string') lines.push(label('event.detail_approved_with', clientNames[details.approved_with] ?? details.approved_with));
  const factors = list('factor', details.factors);
  if (factors.length > 0) lines.push(label('event.detail_factors', factors.join(translate(locale, 'event.list_separator'))));
  if (typeof details.identifier_masked === 'string') lines.push(label('event.detail_identifier', details.identifier_masked));
  if (typeof details.browser_ip === 'string') lines.push(label('event.detail_ip', details.browser_ip));
  if (details.locked === true) lines.push(translate(locale, 'event.detail_locked'));
  const reason = named('event.reason', details.reason);
  if (reason) lines.push(label('event.detail_reason', reason));
  return lines;
}

/** The services a set of records names, so that each is shown by its name. */
export function clientIdsOf(events: Array<{ details: Record<string, unknown> }>): string[] {
  return [...new Set(events.flatMap((e) => [e.details.client_id, e.details.approved_with]).filter((id): id is string => typeof id === 'string'))];
}
