import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one HTTP request has already read, so that the same read made twice by separate
 * parts of one request (oidc-provider's prompts and checks, its models) costs one
 * round trip. Nothing outlives the request; outside a request every read goes to the store.
 */
const scope = new AsyncLocalStorage<Map<string, unknown>>();

/** Runs a request's handling with a scope of its own. */
export function withRequestScope<T>(handle: () => T): T {
  return scope.run(new Map(), handle);
}

/**
 * The first call in a request computes; later calls with the same key share its answer.
 * Only for reads whose answer the request itself does not change (a failed read is retried).
 */
export function oncePerRequest<T>(key: string, compute: () => Promise<T>): Promise<T> {
  const memo = scope.getStore();
  if (!memo) return compute();
  const known = memo.get(key) as Promise<T> | undefined;
  if (known) return known;
  const pending = compute();
  memo.set(key, pending);
  pending.catch(() => memo.delete(key));
  return pending;
}

/** Leaves a value read along with something else for one later reader in the same request. */
export function leaveForRequest(key: string, value: unknown): void {
  scope.getStore()?.set(key, value);
}

/** Takes what `leaveForRequest` left (once: a second reader goes to the store). */
export function takeFromRequest<T>(key: string): T | undefined {
  const memo = scope.getStore();
  const value = memo?.get(key) as T | undefined;
  if (value !== undefined) memo!.delete(key);
  return value;
}

/** What is left under `key`, left in place: for state the parts of one request share. */
export function inRequest<T>(key: string): T | undefined {
  return scope.getStore()?.get(key) as T | undefined;
}

/** Whether something is left under `key`. */
export function peekInRequest(key: string): boolean {
  return scope.getStore()?.has(key) ?? false;
}

/** Forgets what was left under `key` (the thing was written since). */
export function forgetInRequest(key: string): void {
  scope.getStore()?.delete(key);
}
