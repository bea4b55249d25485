import { AppError } from '../errors.js';
import type { ScopeEntry } from '../store/schema.js';

/** What a holder may delegate: every client and item (root authority), or a list. */
export type Bounds = { root: true } | { root: false; scope: ScopeEntry[]; validFrom: Date; validUntil: Date };

/** The service items each client declares (its access_policy.service_items), for clients that accept legal persons. */
export type Catalogue = Map<string, Set<string>>;

/** Sorted, merged, without empty entries: the one form stored and compared. */
export function normaliseScope(scope: ScopeEntry[]): ScopeEntry[] {
  const merged = new Map<string, Set<string>>();
  for (const entry of scope) {
    const items = merged.get(entry.client_id) ?? new Set<string>();
    for (const item of entry.service_items) items.add(item);
    merged.set(entry.client_id, items);
  }
  return [...merged].filter(([, items]) => items.size > 0).sort(([a], [b]) => a.localeCompare(b))
    .map(([client_id, items]) => ({ client_id, service_items: [...items].sort() }));
}

function pairs(scope: ScopeEntry[]): Set<string> {
  return new Set(scope.flatMap((entry) => entry.service_items.map((item) => `${entry.client_id} ${item}`)));
}

/** Every requested item must exist in its client's catalogue, and the scope must not be empty. */
export function checkCatalogue(scope: ScopeEntry[], catalogue: Catalogue): void {
  if (scope.length === 0) throw new AppError('delegation_scope_exceeded', { field: 'scope' });
  for (const entry of scope) {
    const items = catalogue.get(entry.client_id);
    if (!items || entry.service_items.some((item) => !items.has(item))) throw new AppError('delegation_scope_exceeded', { field: 'scope' });
  }
}

/** Narrowing only: the scope within the bounds' scope, the period within the bounds' period. */
export function checkWithin(scope: ScopeEntry[], validFrom: Date, validUntil: Date, bounds: Bounds, now: Date): void {
  if (validUntil.getTime() <= validFrom.getTime() || validUntil.getTime() <= now.getTime()) throw new AppError('delegation_period_exceeded', { field: 'valid_until' });
  if (bounds.root) return;
  const allowed = pairs(bounds.scope);
  for (const pair of pairs(scope)) if (!allowed.has(pair)) throw new AppError('delegation_scope_exceeded', { field: 'scope' });
  if (validFrom.getTime() < bounds.validFrom.getTime() || validUntil.getTime() > bounds.validUntil.getTime()) {
    throw new AppError('delegation_period_exceeded', { field: 'valid_until' });
  }
}

/** Whether `after` takes away anything `before` gave: an item of a client, or time at either end. */
export function narrows(before: { scope: ScopeEntry[]; validFrom: Date; validUntil: Date }, after: { scope: ScopeEntry[]; validFrom: Date; validUntil: Date }): boolean {
  const kept = pairs(after.scope);
  return [...pairs(before.scope)].some((pair) => !kept.has(pair))
    || after.validFrom.getTime() > before.validFrom.getTime()
    || after.validUntil.getTime() < before.validUntil.getTime();
}

/** Whether two scopes share any item of any client. */
export function overlaps(a: ScopeEntry[], b: ScopeEntry[]): boolean {
  const left = pairs(a);
  return [...pairs(b)].some((pair) => left.has(pair));
}

/** The service items a scope grants for one client. */
export function itemsFor(scope: ScopeEntry[], clientId: string): string[] {
  return scope.find((entry) => entry.client_id === clientId)?.service_items ?? [];
}
