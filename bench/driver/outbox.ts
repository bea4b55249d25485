import { createServer, type Server } from 'node:http';
import { open, type FileHandle } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';

/** Where sms-login finds the code the server sent: the outbox file, or the bench's SMS gateway. */
export interface CodeSource {
  /**
   * The login code sent to this phone at or after `since` (epoch ms, taken just before the
   * send request), taken so it is never used twice. A phone used again later (the bench
   * wraps around its accounts) never gets an older code.
   */
  take(phone: string, since: number): Promise<string>;
}

class CodeBook {
  private readonly codes = new Map<string, { code: string; at: number }>();

  record(phone: string, code: string, at: number): void {
    this.codes.set(phone, { code, at });
  }

  takeFresh(phone: string, since: number): string | undefined {
    const entry = this.codes.get(phone);
    if (!entry || entry.at < since) return undefined;
    this.codes.delete(phone);
    return entry.code;
  }

  async take(phone: string, since: number, refresh: () => Promise<void>): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const code = this.takeFresh(phone, since);
      if (code) return code;
      // A read already under way may have started before our message arrived: read again.
      await refresh();
      const again = this.takeFresh(phone, since);
      if (again) return again;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`no login code for ${phone.slice(0, 3)}****${phone.slice(7)}`);
  }
}

/**
 * Follows the SMS outbox the server writes (SMS_GATEWAY=outbox): one JSON line per
 * message. The server appends the line before it answers the send request, so reading
 * the new bytes after that answer always finds the code; nothing is bypassed.
 */
export class OutboxTail implements CodeSource {
  private handle: FileHandle | undefined;
  private offset = 0;
  private rest = '';
  private readonly book = new CodeBook();
  private reading: Promise<void> | undefined;

  constructor(private readonly file: string) {}

  private async readNew(): Promise<void> {
    this.handle ??= await open(this.file, 'r');
    const { size } = await this.handle.stat();
    if (size <= this.offset) return;
    const buffer = Buffer.alloc(size - this.offset);
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
    this.offset += bytesRead;
    const text = this.rest + buffer.subarray(0, bytesRead).toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      const entry = JSON.parse(line) as { at: string; to: string; purpose: string; code?: string };
      if (entry.purpose === 'login' && entry.code) this.book.record(entry.to, entry.code, Date.parse(entry.at));
    }
  }

  private refresh = (): Promise<void> => {
    this.reading ??= this.readNew().finally(() => { this.reading = undefined; });
    return this.reading;
  };

  take(phone: string, since: number): Promise<string> {
    return this.book.take(phone, since, this.refresh);
  }
}

const tails = new Map<string, OutboxTail>();

/** One reader per outbox file for the life of the driver: each scenario does not reread the file. */
export function outboxTail(file: string): OutboxTail {
  let tail = tails.get(file);
  if (!tail) tails.set(file, (tail = new OutboxTail(file)));
  return tail;
}

/**
 * `--sms gateway`: the server sends through its production adapter (SMS_GATEWAY=http) to
 * this HTTP endpoint in the driver, which keeps the codes from the message texts. The
 * gateway answers before the server answers the send request, so the code is here first.
 */
export class SmsSink implements CodeSource {
  private readonly book = new CodeBook();
  private server: Server | undefined;
  received = 0;

  async listen(): Promise<number> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string; text: string; purpose: string };
          const code = /(\d{4,8})/.exec(message.text)?.[1];
          if (message.purpose === 'login' && code) this.book.record(message.to, code, Date.now());
          this.received += 1;
          res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  take(phone: string, since: number): Promise<string> {
    return this.book.take(phone, since, async () => {});
  }
}

export const smsSink = new SmsSink();
