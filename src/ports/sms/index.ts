import { HttpSmsGateway, type HttpSmsOptions } from './http.js';
import { OutboxSmsGateway } from './outbox.js';
import type { SmsGateway } from './types.js';

export type * from './types.js';
export type { HttpSmsOptions } from './http.js';
export type { SmsNotice } from './templates.js';
export { codeMessage, codeText, noticeMessage, noticeText, SMS_SIGNATURE } from './templates.js';
export { latestOutboxCode, readOutbox, type OutboxEntry } from './outbox.js';

export type SmsGatewayOptions =
  | { kind: 'outbox'; file: string }
  | ({ kind: 'http' } & HttpSmsOptions);

export function createSmsGateway(options: SmsGatewayOptions): SmsGateway {
  if (options.kind === 'outbox') return new OutboxSmsGateway(options.file);
  const { kind: _kind, ...http } = options;
  return new HttpSmsGateway(http);
}
