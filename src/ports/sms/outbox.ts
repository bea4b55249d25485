import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { UpstreamUnavailableError } from '../errors.js';
import { assertValidMessage, SMS_PURPOSES, type SmsGateway, type SmsMessage, type SmsPurpose } from './types.js';

/**
 * The development and test gateway: every message becomes one JSON line in a file, where
 * a developer, a test or the bench reads the code. Production refuses it (config/).
 *
 *   {"at":"2025-01-01T08:00:00.000Z","to":"13800138000","purpose":"register","code":"123456","text":"【统一身份认证平台】…"}
 *
 * Lines never interleave: within a process appends are queued one after another, and
 * each line is a single O_APPEND write, which keeps processes sharing the file apart too.
 */
export class OutboxSmsGateway implements SmsGateway {
  readonly kind = 'outbox' as const;
  private queue: Promise<void> = Promise.resolve();
  private directoryReady = false;

  constructor(readonly file: string, private readonly now: () => Date = () => new Date()) {}

  // async, so that a refused message rejects; nothing before the queue update awaits.
  async send(message: SmsMessage): Promise<void> {
    assertValidMessage(message);
    const line = JSON.stringify({
      at: this.now().toISOString(),
      to: message.to,
      purpose: message.purpose,
      ...(message.code === undefined ? {} : { code: message.code }),
      text: message.text,
    });
    const written = this.queue.then(() => this.append(`${line}\n`)).catch((error: unknown) => {
      throw new UpstreamUnavailableError('sms.outbox', 'unreachable', { detail: (error as Error).message, cause: error });
    });
    // The queue goes on after a failed write; the caller of that send sees the failure.
    this.queue = written.catch(() => undefined);
    return written;
  }

  private async append(line: string): Promise<void> {
    if (!this.directoryReady) {
      await mkdir(dirname(this.file), { recursive: true });
      this.directoryReady = true;
    }
    await appendFile(this.file, line, { encoding: 'utf8', flag: 'a' });
  }
}

const outboxLineSchema = z.object({
  at: z.iso.datetime(),
  to: z.string(),
  purpose: z.enum(SMS_PURPOSES as [SmsPurpose, ...SmsPurpose[]]),
  code: z.string().optional(),
  text: z.string(),
});

export type OutboxEntry = z.infer<typeof outboxLineSchema>;

/** Every message in an outbox file, oldest first; an absent file is an empty outbox. */
export async function readOutbox(file: string): Promise<OutboxEntry[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return content.split('\n').filter((line) => line !== '').map((line, index) => {
    const parsed = outboxLineSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${file}:${index + 1}: not an outbox line`);
    return parsed.data;
  });
}

/** The code most recently sent to a phone (for one purpose, if given), as a test or the bench reads it. */
export async function latestOutboxCode(file: string, to: string, purpose?: SmsPurpose): Promise<string | undefined> {
  const entries = await readOutbox(file);
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.to === to && entry.code !== undefined && (purpose === undefined || entry.purpose === purpose)) return entry.code;
  }
  return undefined;
}
