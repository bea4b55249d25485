import type { Adapter, AdapterFactory } from 'oidc-provider';
import type { Cache } from '../../store/cache.js';
import type { Db } from '../../store/db.js';
import type { ClientRegistry } from '../clients.js';
import { CacheArtifacts } from './cache-artifacts.js';
import { DurableArtifacts } from './durable-artifacts.js';

/** Models that must outlive a cache flush (DESIGN.md §3); everything else is short-lived. */
const DURABLE_MODELS = new Set(['Grant', 'RefreshToken']);

/** Clients come from our own table, managed by CLIENTS_FILE and the console, never by oidc-provider. */
class ClientLookup implements Adapter {
  constructor(private readonly clients: ClientRegistry) {}
  async find(id: string) { return this.clients.providerMetadata(id); }
  async upsert(): Promise<never> { throw new Error('clients are managed through CLIENTS_FILE and the console'); }
  async destroy(): Promise<never> { throw new Error('clients are managed through CLIENTS_FILE and the console'); }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume() {}
  async revokeByGrantId() {}
}

export function adapterFactory(stores: { db: Db; cache: Cache; clients: ClientRegistry; refreshReuseSeconds?: number }): AdapterFactory {
  return (model: string) => {
    if (model === 'Client') return new ClientLookup(stores.clients);
    return DURABLE_MODELS.has(model)
      ? new DurableArtifacts(stores.db, model, { refreshReuseSeconds: stores.refreshReuseSeconds })
      : new CacheArtifacts(stores.cache, model);
  };
}
