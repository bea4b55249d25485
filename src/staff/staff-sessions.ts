import { randomBytes } from 'node:crypto';
import type { KeyedDigest } from '../crypto/digest.js';
import type { Cache } from '../store/cache.js';

/** GB/T 22239 level 3: an idle console signs out; a long day ends the session whatever. */
export const STAFF_IDLE_SECONDS = 15 * 60;
export const STAFF_ABSOLUTE_SECONDS = 8 * 3600;

interface StoredSession {
  staffId: string;
  createdAt: number;
  lastSeenAt: number;
  /** The member's session epoch when it began (absent in sessions older than epochs: 0). */
  epoch?: number;
}

export interface StaffSession {
  staffId: string;
  /** Names the session in pages, CSRF tokens and search memory; the cookie value never leaves the cookie. */
  handle: string;
  createdAt: number;
  /** Compared with the member's current epoch on every use: a raised epoch ends the session. */
  epoch: number;
}

/**
 * Console sessions, in the cache, apart from the citizens' SSO sessions: the id is random,
 * held only in the staff cookie; the cache keys by a digest of it. Every use moves the
 * idle deadline; nothing moves the absolute one. Both are checked on read, not only left
 * to the cache's TTL, so a clock is all a test needs to prove them.
 */
export class StaffSessions {
  constructor(private readonly cache: Cache, private readonly digest: KeyedDigest, private readonly now: () => number = Date.now) {}

  handle(sessionId: string): string {
    return this.digest.digest('staff-session', sessionId).slice(0, 32);
  }

  private key(handle: string) {
    return `staff-session:${handle}`;
  }

  async create(staffId: string, epoch = 0): Promise<{ id: string; session: StaffSession }> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const handle = this.handle(id);
    await this.cache.set(this.key(handle), JSON.stringify({ staffId, createdAt: at, lastSeenAt: at, epoch } satisfies StoredSession), STAFF_IDLE_SECONDS);
    return { id, session: { staffId, handle, createdAt: at, epoch } };
  }

  /**
   * Moves a live session into a new epoch: the member who raised it (by replacing their own
   * credentials) keeps the session they did it in, while every other one ends.
   */
  async carryOver(handle: string, epoch: number): Promise<void> {
    const raw = await this.cache.get(this.key(handle));
    const ttl = await this.cache.ttl(this.key(handle));
    if (!raw || !ttl) return;
    await this.cache.set(this.key(handle), JSON.stringify({ ...JSON.parse(raw) as StoredSession, epoch }), ttl);
  }

  /** The live session for a cookie value, not touched; undefined once idle or too old (and then removed). */
  private async live(sessionId: string | undefined): Promise<{ handle: string; stored: StoredSession; at: number; absoluteLeft: number } | undefined> {
    if (!sessionId || !/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
    const handle = this.handle(sessionId);
    const raw = await this.cache.get(this.key(handle));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredSession;
    const at = this.now();
    const absoluteLeft = stored.createdAt + STAFF_ABSOLUTE_SECONDS * 1000 - at;
    if (at - stored.lastSeenAt > STAFF_IDLE_SECONDS * 1000 || absoluteLeft <= 0) {
      await this.end(sessionId);
      return undefined;
    }
    return { handle, stored, at, absoluteLeft };
  }

  /** The live session for a cookie value, touched; undefined once idle or too old (and then removed). */
  async use(sessionId: string | undefined): Promise<StaffSession | undefined> {
    const found = await this.live(sessionId);
    if (!found) return undefined;
    const { handle, stored, at, absoluteLeft } = found;
    const ttl = Math.max(1, Math.min(STAFF_IDLE_SECONDS, Math.floor(absoluteLeft / 1000)));
    await this.cache.set(this.key(handle), JSON.stringify({ ...stored, lastSeenAt: at }), ttl);
    return { staffId: stored.staffId, handle, createdAt: stored.createdAt, epoch: stored.epoch ?? 0 };
  }

  /** Whose live session a cookie value is, without counting as a use of it (the session's idle time runs on). */
  async holder(sessionId: string | undefined): Promise<string | undefined> {
    return (await this.live(sessionId))?.stored.staffId;
  }

  async end(sessionId: string): Promise<void> {
    const handle = this.handle(sessionId);
    await Promise.all([this.cache.delete(this.key(handle)), this.cache.delete(`staff-found:${handle}`)]);
  }

  /** Remembers that this session's search found the account: acts on accounts need it. */
  async remember(handle: string, accountId: string): Promise<void> {
    await this.cache.addToSet(`staff-found:${handle}`, accountId, STAFF_ABSOLUTE_SECONDS);
  }

  async found(handle: string, accountId: string): Promise<boolean> {
    return (await this.cache.members(`staff-found:${handle}`)).includes(accountId);
  }
}
