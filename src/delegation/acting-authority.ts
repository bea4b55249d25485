import type { Db } from '../store/db.js';
import type { EnterpriseType } from '../store/schema.js';
import { enterpriseCanAct, inPeriod } from './delegations.js';
import { grantStore, type GrantRow } from './grant-store.js';
import { itemsFor } from './scope.js';

/** How many Grant bindings one process remembers (a few MB at most). */
const MAX_REMEMBERED_BINDINGS = 50_000;

/** What a login acts as: the person, or an enterprise by root authority (no grant) or by one delegation grant. */
export type ActingChoice =
  | { entity_type: 'natural' }
  | { entity_type: 'legal'; enterprise_id: string; delegation_grant_id: string | null };

/** What an oidc Grant acts as, and for whom. */
export type Binding = ActingChoice & { account_id: string };

/** An enterprise someone may act as for one client, as the choice page and the tokens show it. */
export interface ActingAs {
  enterprise: { id: string; uscc: string; name: string; type: EnterpriseType };
  delegationGrantId: string | null;
  role: 'legal_representative' | 'delegate';
  level: number;
  /** The service items of this client the authority covers. */
  serviceItems: string[];
  /** Null for the representative, whose authority has no end date. */
  validUntil: Date | null;
}

/** How a client takes legal persons: whether at all, and the service items it declares; and whether it takes natural persons. */
export type ClientLegalPolicy = (clientId: string) => Promise<{ acceptsLegal: boolean; serviceItems: string[]; acceptsNatural: boolean } | undefined>;

export function sameChoice(a: ActingChoice, b: ActingChoice): boolean {
  if (a.entity_type === 'natural' || b.entity_type === 'natural') return a.entity_type === b.entity_type;
  return a.enterprise_id === b.enterprise_id && a.delegation_grant_id === b.delegation_grant_id;
}

/**
 * Which enterprises a person may act as for a client, checked afresh at every call:
 * the representative of an active enterprise for any client that takes legal persons;
 * a grantee through an active grant, in its period, whose scope names the client. A
 * client outside a grant's scope never sees that enterprise.
 */
export class ActingAuthority {
  constructor(private readonly db: Db, private readonly policy: ClientLegalPolicy, private readonly now: () => Date = () => new Date()) {}

  async options(accountId: string, clientId: string): Promise<ActingAs[]> {
    const policy = await this.policy(clientId);
    if (!policy?.acceptsLegal) return [];
    const represented = (await grantStore.representedBy(this.db, accountId)).filter(enterpriseCanAct);
    const options: ActingAs[] = represented.map((enterprise) => this.asRepresentative(enterprise, policy.serviceItems));
    const seen = new Set(represented.map((e) => e.id));
    for (const grant of await grantStore.heldBy(this.db, accountId)) {
      if (seen.has(grant.enterprise_id)) continue;
      const option = await this.viaGrant(accountId, clientId, grant.id, grant);
      if (option) options.push(option);
    }
    return options;
  }

  /** Whether a person may act as themself at the client; false for a client only for legal persons (or an unknown one). */
  async acceptsNatural(clientId: string): Promise<boolean> {
    return (await this.policy(clientId))?.acceptsNatural ?? false;
  }

  /** The choice as it stands now, or undefined when the authority behind it is gone (cancelled, expired, representative changed). */
  async resolve(accountId: string, clientId: string, choice: ActingChoice): Promise<ActingAs | undefined> {
    if (choice.entity_type !== 'legal') return undefined;
    const policy = await this.policy(clientId);
    if (!policy?.acceptsLegal) return undefined;
    if (choice.delegation_grant_id) {
      const option = await this.viaGrant(accountId, clientId, choice.delegation_grant_id);
      return option?.enterprise.id === choice.enterprise_id ? option : undefined;
    }
    const enterprise = await grantStore.enterprise(this.db, choice.enterprise_id);
    if (!enterpriseCanAct(enterprise) || enterprise.representative_account_id !== accountId) return undefined;
    return this.asRepresentative(enterprise, policy.serviceItems);
  }

  private asRepresentative(enterprise: { id: string; uscc: string; name: string; type: EnterpriseType }, serviceItems: string[]): ActingAs {
    return {
      enterprise: { id: enterprise.id, uscc: enterprise.uscc, name: enterprise.name, type: enterprise.type },
      delegationGrantId: null,
      role: 'legal_representative',
      level: 0,
      serviceItems,
      validUntil: null,
    };
  }

  /** `read`: the grant's row when the caller has just read it. */
  private async viaGrant(accountId: string, clientId: string, grantId: string, read?: GrantRow): Promise<ActingAs | undefined> {
    const now = this.now();
    const grant = read ?? await grantStore.grant(this.db, grantId);
    if (!grant || grant.grantee_account_id !== accountId || grant.status !== 'active') return undefined;
    if (!inPeriod(grant, now)) {
      if (new Date(grant.valid_until).getTime() <= now.getTime()) await grantStore.expireLapsed(this.db, now, [grant.id]);
      return undefined;
    }
    const items = itemsFor(grant.scope, clientId);
    if (items.length === 0) return undefined;
    const enterprise = await grantStore.enterprise(this.db, grant.enterprise_id);
    if (!enterpriseCanAct(enterprise)) return undefined;
    return {
      enterprise: { id: enterprise.id, uscc: enterprise.uscc, name: enterprise.name, type: enterprise.type },
      delegationGrantId: grant.id,
      role: 'delegate',
      level: grant.level,
      serviceItems: items,
      validUntil: new Date(grant.valid_until),
    };
  }

  // ---- which oidc-provider Grant acts as what ----

  /**
   * Bindings already read, by oidc Grant. A Grant's binding never changes once made (a
   * different choice gets a new Grant, and a Grant without one only ever gains a natural
   * one, which means the same), so every token use after the first skips the database;
   * whether a legal binding's authority still holds is checked at each use regardless.
   */
  private readonly bindings = new Map<string, Binding | null>();

  async bindingOf(oidcGrantId: string): Promise<Binding | undefined> {
    const known = this.bindings.get(oidcGrantId);
    if (known !== undefined) return known ?? undefined;
    const row = await this.db.selectFrom('acting_identities').selectAll().where('oidc_grant_id', '=', oidcGrantId).executeTakeFirst();
    const binding: Binding | null = !row ? null : row.entity_type === 'legal'
      ? { entity_type: 'legal', enterprise_id: row.enterprise_id!, delegation_grant_id: row.delegation_grant_id, account_id: row.account_id }
      : { entity_type: 'natural', account_id: row.account_id };
    this.remember(oidcGrantId, binding);
    return binding ?? undefined;
  }

  private remember(oidcGrantId: string, binding: Binding | null): void {
    // Oldest first out: a Map keeps insertion order.
    if (this.bindings.size >= MAX_REMEMBERED_BINDINGS) this.bindings.delete(this.bindings.keys().next().value!);
    this.bindings.set(oidcGrantId, binding);
  }

  async bind(oidcGrantId: string, accountId: string, clientId: string, choice: ActingChoice): Promise<void> {
    const legal = choice.entity_type === 'legal' ? choice : undefined;
    const row = {
      oidc_grant_id: oidcGrantId,
      account_id: accountId,
      client_id: clientId,
      entity_type: choice.entity_type,
      enterprise_id: legal?.enterprise_id ?? null,
      delegation_grant_id: legal?.delegation_grant_id ?? null,
    };
    await this.db.insertInto('acting_identities').values(row)
      .onConflict((c) => c.column('oidc_grant_id').doUpdateSet({ entity_type: row.entity_type, enterprise_id: row.enterprise_id, delegation_grant_id: row.delegation_grant_id }))
      .execute();
    this.bindings.delete(oidcGrantId);
  }

  /** The oidc-provider Grants acting under any of these delegation grants. */
  async loginsUnder(delegationGrantIds: string[]): Promise<string[]> {
    if (delegationGrantIds.length === 0) return [];
    const rows = await this.db.selectFrom('acting_identities').select('oidc_grant_id').where('delegation_grant_id', 'in', delegationGrantIds).execute();
    return rows.map((r) => r.oidc_grant_id);
  }

  /** Every oidc-provider Grant acting for the enterprise, by root authority or under a delegation grant. */
  async loginsFor(enterpriseId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('acting_identities').select('oidc_grant_id').where('enterprise_id', '=', enterpriseId).execute();
    return rows.map((r) => r.oidc_grant_id);
  }

  /** The oidc-provider Grants acting for the enterprise by root authority (its representative's logins). */
  async rootLoginsFor(enterpriseId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('acting_identities').select('oidc_grant_id')
      .where('enterprise_id', '=', enterpriseId).where('delegation_grant_id', 'is', null).execute();
    return rows.map((r) => r.oidc_grant_id);
  }
}
