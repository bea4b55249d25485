import { JsonHttpClient, type UpstreamTuning } from '../http-client.js';
import { assertValidMessage, type SmsGateway, type SmsMessage } from './types.js';

/** `retries` counts attempts after a refused connection only; nothing else is ever retried. */
export interface HttpSmsOptions extends UpstreamTuning {
  /** The gateway endpoint; messages are POSTed to it as JSON. */
  url: string;
}

/**
 * An SMS gateway over HTTP: `POST {url}` with `{"to","text","purpose"}` and, when a token
 * is set, `Authorization: Bearer <apiToken>`; any 2xx means accepted, its body is ignored.
 * The code itself is not sent apart from the text: the gateway has no use for it.
 *
 * Sending is not idempotent: once the request may have reached the gateway, a failure is
 * reported and never retried, so nobody receives a code twice (and no stale code arrives
 * after a fresh one). Only a connection that was never made is tried again.
 */
export class HttpSmsGateway implements SmsGateway {
  readonly kind = 'http' as const;
  private readonly client: JsonHttpClient;

  constructor(options: HttpSmsOptions) {
    const { url, apiToken, ...rest } = options;
    this.client = new JsonHttpClient({
      ...rest,
      upstream: 'sms',
      baseUrl: url,
      ...(apiToken ? { bearerToken: apiToken } : {}),
    });
  }

  async send(message: SmsMessage): Promise<void> {
    assertValidMessage(message);
    await this.client.post('', { to: message.to, text: message.text, purpose: message.purpose }, { idempotent: false });
  }
}
