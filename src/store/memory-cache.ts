import type { BroadcastListener, Cache, CachedRecord, ConsumeOutcome } from './cache.js';

interface Entry {
  value: string | Set<string> | CachedRecord;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 30_000;

/**
 * The in-process stand-in for Redis on a single development machine. Node runs one
 * callback at a time, so each method is atomic without locks. Production refuses it.
 */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private readonly listeners = new Map<string, BroadcastListener[]>();

  constructor(private readonly prefix: string) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(this.prefix + key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(this.prefix + key);
      return undefined;
    }
    return entry;
  }

  private store(key: string, value: Entry['value'], ttlSeconds: number): void {
    this.entries.set(this.prefix + key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  async get(key: string) {
    const entry = this.live(key);
    return typeof entry?.value === 'string' ? entry.value : null;
  }

  async set(key: string, value: string, ttlSeconds: number) {
    this.store(key, value, ttlSeconds);
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    if (this.live(key)) return false;
    this.store(key, value, ttlSeconds);
    return true;
  }

  async delete(key: string) {
    this.entries.delete(this.prefix + key);
  }

  async take(key: string) {
    // No await between the read and the delete: that is what makes take atomic here.
    const entry = this.live(key);
    if (typeof entry?.value !== 'string') return null;
    this.entries.delete(this.prefix + key);
    return entry.value;
  }

  async increment(key: string, ttlSeconds: number) {
    const entry = this.live(key);
    if (!entry) {
      this.store(key, '1', ttlSeconds);
      return 1;
    }
    const next = Number(entry.value) + 1;
    entry.value = String(next);
    return next;
  }

  async reserve(key: string, limit: number, ttlSeconds: number) {
    const entry = this.live(key);
    const count = entry ? Number(entry.value) : 0;
    if (count >= limit) return 0;
    if (!entry) {
      this.store(key, '1', ttlSeconds);
      return 1;
    }
    entry.value = String(count + 1);
    return count + 1;
  }

  async release(key: string) {
    const entry = this.live(key);
    const count = entry ? Number(entry.value) : 0;
    if (entry && count > 0) entry.value = String(count - 1);
  }

  async ttl(key: string) {
    const entry = this.live(key);
    return entry ? Math.ceil((entry.expiresAt - Date.now()) / 1000) : null;
  }

  async putRecord(key: string, value: string, ttlSeconds: number) {
    this.store(key, { value }, ttlSeconds);
  }

  async getRecord(key: string) {
    const entry = this.live(key);
    if (!entry || typeof entry.value === 'string' || entry.value instanceof Set) return null;
    return { ...entry.value };
  }

  async consumeRecord(key: string, at: number): Promise<ConsumeOutcome> {
    const entry = this.live(key);
    if (!entry || typeof entry.value === 'string' || entry.value instanceof Set) return 'missing';
    if (entry.value.consumedAt !== undefined) return 'already-consumed';
    entry.value.consumedAt = at;
    return 'consumed';
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    const entry = this.live(key);
    const expiresAt = Date.now() + ttlSeconds * 1000;
    if (entry && entry.value instanceof Set) {
      entry.value.add(member);
      entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
      return;
    }
    this.entries.set(this.prefix + key, { value: new Set([member]), expiresAt });
  }

  async members(key: string) {
    const entry = this.live(key);
    return entry && entry.value instanceof Set ? [...entry.value] : [];
  }

  // One process, one cache: the only instance to tell is this one.
  async publish(channel: string, message: string) {
    for (const listener of this.listeners.get(channel) ?? []) listener.onMessage(message);
  }

  async subscribe(channel: string, listener: BroadcastListener) {
    this.listeners.set(channel, [...this.listeners.get(channel) ?? [], listener]);
  }

  async ping() {
    if (this.closed) throw new Error('cache is closed');
  }

  async close() {
    this.closed = true;
    clearInterval(this.sweeper);
    this.entries.clear();
    this.listeners.clear();
  }
}
