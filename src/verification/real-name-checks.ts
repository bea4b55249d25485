import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { RealNamePolicy } from '../config/load.js';
import { AppError, type ErrorCode } from '../errors.js';
import { maskIdNumber } from '../identity/masking.js';
import { reservations, type Cache } from '../store/cache.js';
import type { Captchas } from './captcha.js';
import { addressKey } from './address-key.js';

/** What a registry said: a match with what it proved, or no match and why (the why is for the audit log only). */
export type Verdict<T> = { match: true; value: T } | { match: false; reason: 'mismatch' | 'not_eligible' };

export interface RealNameCheck {
  /** What is checked: `identity` (name and ID number) or a document factor kind. */
  check: string;
  /** The code a person gets for a wrong answer: the same whatever the registry's reason. */
  refusal: Extract<ErrorCode, 'identity_mismatch' | 'factor_mismatch'>;
  flowId: string;
  channel: string;
  idNumber: string;
  /** The ID number's keyed digest: limits are counted by it, never by the number. */
  idIndex: string;
  /** A keyed digest of the name with the ID number's region and birth date (its first 14 characters): the person being guessed at. */
  personIndex: string;
  captcha?: { id?: string; answer?: string };
  meta: RequestMeta;
}

const HOUR = 3600;
const DAY = 86_400;

/**
 * Real-name checks answered to someone not yet signed in (a name against an ID number, a
 * card against a person) would otherwise be an oracle: whoever holds an ID number could
 * try names, or card numbers, until the registry said yes. So wrong answers are limited
 * per flow, per ID number and per address; once a few are spent every further check
 * needs a captcha; and every answer, right or wrong, is audited.
 *
 * Every limit takes its place before the registry is asked (Cache.reserve), so fifty
 * checks sent at once are fifty tries, not fifty judged against one count. A wrong answer
 * keeps its places; a right one, an unavailable registry or a refused captcha give them back.
 * Why a check failed (a deceased person, say) is told to the audit log, never to the asker.
 */
export class RealNameChecks {
  constructor(
    private readonly cache: Cache,
    private readonly captchas: Captchas,
    private readonly audit: AuditLog,
    private readonly policy: RealNamePolicy,
  ) {}

  /** The captcha-free allowances a check uses: the address's, and once the person is known, the ID number's and the guessed person's. */
  private captchaFreeKeys(ip: string | undefined, person?: Pick<RealNameCheck, 'idIndex' | 'personIndex'>): string[] {
    return [
      `realname-free:ip:${addressKey(ip)}`,
      ...(person ? [`realname-free:id:${person.idIndex}`, `realname-free:person:${person.personIndex}`] : []),
    ];
  }

  /** Whether the next check from this address (about this person, when known) needs a captcha: pages show one ahead of time. */
  async captchaRequired(ip: string | undefined, person?: Pick<RealNameCheck, 'idIndex' | 'personIndex'>): Promise<boolean> {
    const keys = this.captchaFreeKeys(ip, person);
    const used = await Promise.all(keys.map(async (key) => Number(await this.cache.get(key) ?? 0)));
    return used.some((count) => count >= this.policy.captchaAfterFailures);
  }

  async run<T>(request: RealNameCheck, ask: () => Promise<Verdict<T>>): Promise<T> {
    const { take, giveBack } = reservations(this.cache);
    const limits: Array<[string, number, number]> = [
      [`realname-fail:flow:${request.flowId}`, this.policy.failuresPerFlow, DAY],
      [`realname-fail:id:${request.idIndex}`, this.policy.failuresPerIdNumberPerDay, DAY],
      [`realname-fail:ip:${addressKey(request.meta.ip)}`, this.policy.failuresPerIpPerHour, HOUR],
      // Names tried against one person's region and birth date: guessing the sequence number
      // of a known person's ID number is one person's wrong answers, not one per number tried.
      [`realname-fail:person:${request.personIndex}`, this.policy.failuresPerIdNumberPerDay, DAY],
    ];
    let verdict: Verdict<T>;
    try {
      // The captcha first: a check that lacks one it needs is refused without touching the limits.
      let captchaFree = true;
      for (const key of this.captchaFreeKeys(request.meta.ip, request)) {
        if (!await take(key, this.policy.captchaAfterFailures, HOUR)) captchaFree = false;
      }
      if (!captchaFree) await this.captchas.verify(request.captcha?.id, request.captcha?.answer);
      for (const [key, limit, seconds] of limits) {
        if (!await take(key, limit, seconds)) {
          await this.record(request, 'denied', 'limit');
          const left = await this.cache.ttl(key) ?? seconds;
          throw new AppError('realname_checks_exceeded', { minutes: Math.max(1, Math.ceil(left / 60)) });
        }
      }
      verdict = await ask();
    } catch (error) {
      await giveBack();
      throw error;
    }
    if (!verdict.match) {
      await this.record(request, 'failure', verdict.reason);
      throw new AppError(request.refusal);
    }
    await giveBack();
    await this.record(request, 'success');
    return verdict.value;
  }

  private async record(request: RealNameCheck, result: 'success' | 'failure' | 'denied', reason?: string): Promise<void> {
    await this.audit.append({
      actor: { kind: 'anonymous' },
      action: 'realname.check',
      result,
      details: { check: request.check, channel: request.channel, id_number_masked: maskIdNumber(request.idNumber), ...(reason ? { reason } : {}) },
      meta: request.meta,
    });
  }
}
