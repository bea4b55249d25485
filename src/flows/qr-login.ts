import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Accounts } from '../identity/accounts.js';
import type { Cache } from '../store/cache.js';

/** How long a QR code on the login page can be scanned and confirmed. */
export const QR_TTL_SECONDS = 120;
/** After a confirmation, how long the page has to pick it up, even if the code expires meanwhile. */
const PICKUP_GRACE_SECONDS = 60;
const PREFIX = 'civic-idp:qr-login:';
const ID = /^[A-Za-z0-9_-]{43}$/;

/** What a login page asked for: stored under the code's id, never changed after. */
interface QrRequest {
  interactionUid: string;
  clientId: string;
  clientName: string;
  ip?: string;
  userAgent?: string;
  createdAt: number;
  expiresAt: number;
}

/** The one decision a code can ever get, written once (set-if-absent) by the app. */
interface QrDecision {
  decision: 'confirm' | 'deny';
  accountId: string;
  interactionUid: string;
}

export type QrStatus = 'pending' | 'scanned' | 'confirmed' | 'denied' | 'expired';

/** What the app shows before the person confirms. */
export interface QrPreview {
  clientId: string;
  clientName: string;
  browser: { ipApproximate?: string; userAgent?: string };
  createdAt: number;
  expiresAt: number;
}

/** The scanning app's token, already checked by the HTTP layer (scope, client, account active). */
export interface QrApprover {
  accountId: string;
  clientId: string;
}

/** The address a person can recognise without the exact host: a /24 for IPv4, a /48 for IPv6. */
export function approximateIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const bare = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(bare)) return `${bare.split('.').slice(0, 3).join('.')}.*`;
  if (isIPv6(bare)) {
    const groups = bare.split('::')[0]!.split(':').filter(Boolean).slice(0, 3);
    return `${groups.join(':')}::/48`;
  }
  return undefined;
}

/** The text in the QR code: a fixed prefix the app recognises, and the code's random id. */
export function qrPayload(id: string): string {
  return `${PREFIX}${id}`;
}

export function parseQrPayload(payload: string): string {
  const id = payload.startsWith(PREFIX) ? payload.slice(PREFIX.length) : '';
  if (!ID.test(id)) throw new AppError('qr_expired');
  return id;
}

/**
 * PC login by QR code. The login page issues a code bound to its interaction; the app,
 * signed in, scans it (which claims it for its account), shows the person who is asking
 * and from where, and confirms or denies it once; the page then completes the login for
 * exactly that account. Every cache operation touches one key, and every one-time step is
 * a set-if-absent, so concurrent confirmations or completions cannot both succeed.
 */
export class QrLogins {
  constructor(private readonly cache: Cache, private readonly accounts: Accounts, private readonly audit: AuditLog) {}

  private key(kind: 'request' | 'scan' | 'decision' | 'done', id: string) {
    return `qr-login:${kind}:${id}`;
  }

  private currentKey(interactionUid: string) {
    return `qr-login:current:${interactionUid}`;
  }

  private now() {
    return Math.floor(Date.now() / 1000);
  }

  private async json<T>(key: string): Promise<T | undefined> {
    const raw = await this.cache.get(key);
    return raw ? JSON.parse(raw) as T : undefined;
  }

  /** A new code for an interaction; it replaces the interaction's previous one. */
  async issue(input: { interactionUid: string; clientId: string; clientName: string }, meta: RequestMeta): Promise<{ id: string; payload: string; expiresAt: number }> {
    const id = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const request: QrRequest = {
      ...input,
      ...(meta.ip ? { ip: meta.ip } : {}),
      ...(meta.userAgent ? { userAgent: meta.userAgent.slice(0, 256) } : {}),
      createdAt,
      expiresAt: createdAt + QR_TTL_SECONDS,
    };
    await this.cache.set(this.key('request', id), JSON.stringify(request), QR_TTL_SECONDS);
    await this.cache.set(this.currentKey(input.interactionUid), id, QR_TTL_SECONDS);
    return { id, payload: qrPayload(id), expiresAt: request.expiresAt };
  }

  /** The code the interaction's page shows now, if any (it may have expired or been used since). */
  current(interactionUid: string): Promise<string | null> {
    return this.cache.get(this.currentKey(interactionUid));
  }

  /** A live code: stored, not past its expiry, and still the one its interaction shows. */
  private async live(id: string): Promise<QrRequest> {
    const request = ID.test(id) ? await this.json<QrRequest>(this.key('request', id)) : undefined;
    if (!request || request.expiresAt <= this.now()) throw new AppError('qr_expired');
    if (await this.cache.get(this.currentKey(request.interactionUid)) !== id) throw new AppError('qr_expired');
    return request;
  }

  private remaining(request: QrRequest) {
    return Math.max(1, request.expiresAt - this.now());
  }

  /**
   * The app scanned the code: it is claimed for the scanning account (another account
   * can no longer use it) and the app gets what to show before confirming.
   */
  async scan(payload: string, approver: QrApprover, meta: RequestMeta): Promise<QrPreview> {
    const id = parseQrPayload(payload);
    if (await this.cache.get(this.key('decision', id))) throw new AppError('qr_used');
    const request = await this.live(id);
    await this.claim(id, request, approver, meta);
    return {
      clientId: request.clientId,
      clientName: request.clientName,
      browser: {
        ...(approximateIp(request.ip) ? { ipApproximate: approximateIp(request.ip) } : {}),
        ...(request.userAgent ? { userAgent: request.userAgent } : {}),
      },
      createdAt: request.createdAt,
      expiresAt: request.expiresAt,
    };
  }

  private async claim(id: string, request: QrRequest, approver: QrApprover, meta: RequestMeta): Promise<void> {
    const key = this.key('scan', id);
    if (await this.cache.setIfAbsent(key, approver.accountId, this.remaining(request))) return;
    if (await this.cache.get(key) !== approver.accountId) await this.refuseOther(request, approver, meta);
  }

  /** Someone else's code: audited, since it may be a stolen token or a shoulder-surfed screen. */
  private async refuseOther(request: QrRequest, approver: QrApprover, meta: RequestMeta): Promise<never> {
    await this.audit.append({
      actor: { kind: 'citizen', id: approver.accountId }, action: 'login.qr', target: { kind: 'account', id: approver.accountId }, result: 'denied',
      details: { reason: 'claimed_by_another_account', client_id: request.clientId }, meta,
    });
    throw new AppError('qr_claimed');
  }

  /** The person's answer in the app: one per code, from the account that scanned it. */
  async decide(payload: string, decision: 'confirm' | 'deny', approver: QrApprover, meta: RequestMeta): Promise<void> {
    const id = parseQrPayload(payload);
    if (await this.cache.get(this.key('decision', id))) throw new AppError('qr_used');
    const request = await this.live(id);
    const scanner = await this.cache.get(this.key('scan', id));
    if (!scanner) throw new AppError('qr_not_scanned');
    if (scanner !== approver.accountId) await this.refuseOther(request, approver, meta);
    const record: QrDecision = { decision, accountId: approver.accountId, interactionUid: request.interactionUid };
    if (!await this.cache.setIfAbsent(this.key('decision', id), JSON.stringify(record), this.remaining(request) + PICKUP_GRACE_SECONDS)) {
      throw new AppError('qr_used');
    }
    await this.audit.append({
      actor: { kind: 'citizen', id: approver.accountId },
      action: decision === 'confirm' ? 'login.qr.confirm' : 'login.qr.deny',
      target: { kind: 'account', id: approver.accountId },
      result: 'success',
      details: { client_id: request.clientId, approved_with: approver.clientId, browser_ip: approximateIp(request.ip) },
      meta,
    });
  }

  /** What the login page shows while it waits; only for the interaction the code belongs to. */
  async status(interactionUid: string, id: string): Promise<QrStatus> {
    const decision = ID.test(id) ? await this.json<QrDecision>(this.key('decision', id)) : undefined;
    if (decision) {
      if (decision.interactionUid !== interactionUid) throw new AppError('qr_mismatch');
      if (await this.cache.get(this.key('done', id))) return 'expired';
      return decision.decision === 'confirm' ? 'confirmed' : 'denied';
    }
    const request = ID.test(id) ? await this.json<QrRequest>(this.key('request', id)) : undefined;
    if (!request || request.expiresAt <= this.now()) return 'expired';
    if (request.interactionUid !== interactionUid) throw new AppError('qr_mismatch');
    if (await this.cache.get(this.currentKey(interactionUid)) !== id) return 'expired';
    return await this.cache.get(this.key('scan', id)) ? 'scanned' : 'pending';
  }

  /**
   * The page picks up a confirmation: only its own interaction's code, only once, and only
   * for the account that confirmed it, which must still be active.
   */
  async complete(interactionUid: string, id: string): Promise<{ accountId: string; assuranceLevel: number }> {
    const decision = ID.test(id) ? await this.json<QrDecision>(this.key('decision', id)) : undefined;
    if (!decision) {
      const request = ID.test(id) ? await this.json<QrRequest>(this.key('request', id)) : undefined;
      if (request && request.interactionUid !== interactionUid) throw new AppError('qr_mismatch');
      if (request && request.expiresAt > this.now()) throw new AppError('qr_pending');
      throw new AppError('qr_expired');
    }
    if (decision.interactionUid !== interactionUid) throw new AppError('qr_mismatch');
    if (decision.decision === 'deny') throw new AppError('qr_denied');
    if (!await this.cache.setIfAbsent(this.key('done', id), '1', PICKUP_GRACE_SECONDS + QR_TTL_SECONDS)) throw new AppError('qr_used');
    const row = await this.accounts.row(decision.accountId);
    if (row?.status === 'banned') throw new AppError('account_banned');
    if (row?.status !== 'active') throw new AppError('qr_expired');
    return { accountId: row.id, assuranceLevel: row.assurance_level };
  }
}
