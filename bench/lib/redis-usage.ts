import { connectRedis } from './stores.js';

export interface KeyFamily {
  keys: number;
  /** Average MEMORY USAGE of a sample of the family's keys, in bytes. */
  avg_bytes: number;
  /** keys × avg_bytes */
  total_bytes: number;
}

/**
 * Names the kind of key without its ids: `oidc:Session:<id>` → `oidc:Session`,
 * `oidc:Session:uid:<uid>` → `oidc:Session:uid`, `sms-phone:<digest>:h` → `sms-phone:*:h`
 * (a part that is a short lower-case word is kept, anything else is an id).
 */
export function family(key: string): string {
  const parts = key.split(':');
  if (parts[0] === 'oidc') {
    if (parts[1] === 'grant' || parts[1] === 'account') return `oidc:${parts[1]}`;
    if (parts[2] === 'uid' || parts[2] === 'user-code') return `oidc:${parts[1]}:${parts[2]}`;
    return `oidc:${parts[1]}`;
  }
  return parts.map((part, index) => (index === 0 || /^[a-z-]{1,12}$/.test(part) ? part : '*')).join(':');
}

/**
 * Every key under the prefix, grouped by family, with its memory measured by Redis itself
 * (MEMORY USAGE on up to `sample` keys per family, pipelined).
 */
export async function redisUsage(url: string, prefix: string, sample = 400): Promise<Record<string, KeyFamily>> {
  const redis = await connectRedis(url);
  try {
    const byFamily = new Map<string, string[]>();
    const counts = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      cursor = next;
      for (const key of keys) {
        const name = family(key.slice(prefix.length));
        counts.set(name, (counts.get(name) ?? 0) + 1);
        const list = byFamily.get(name) ?? [];
        if (list.length < sample) list.push(key);
        byFamily.set(name, list);
      }
    } while (cursor !== '0');
    const result: Record<string, KeyFamily> = {};
    for (const [name, keys] of byFamily) {
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      const replies = (await pipeline.exec()) ?? [];
      const sizes = replies.map(([error, value]) => (error ? 0 : Number(value ?? 0))).filter((size) => size > 0);
      const avg = sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0;
      const count = counts.get(name) ?? 0;
      result[name] = { keys: count, avg_bytes: Math.round(avg), total_bytes: Math.round(avg * count) };
    }
    return Object.fromEntries(Object.entries(result).sort(([, a], [, b]) => b.total_bytes - a.total_bytes));
  } finally {
    redis.disconnect();
  }
}
