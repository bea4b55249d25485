import type { GrantRow, RequestRow, EnterpriseRow } from '../../delegation/grant-store.js';
import type { Accounts } from '../../identity/accounts.js';
import { maskName, maskUscc } from '../../identity/masking.js';

/** Grants, requests and enterprises as pages and the API show them: people by masked name only. */
export function presenter(accounts: Accounts) {
  const names = new Map<string, Promise<string>>();
  const nameOf = (id: string | null) => {
    if (!id) return Promise.resolve('');
    if (!names.has(id)) {
      names.set(id, accounts.row(id).then((row) => {
        const name = row ? accounts.openField(row, 'name') : undefined;
        return name ? maskName(name) : '';
      }));
    }
    return names.get(id)!;
  };
  const iso = (at: Date | string) => new Date(at).toISOString();

  async function grant(row: GrantRow, now = new Date()) {
    const lapsed = row.status === 'active' && new Date(row.valid_until).getTime() <= now.getTime();
    return {
      id: row.id,
      enterprise_id: row.enterprise_id,
      parent_id: row.parent_id,
      level: row.level,
      grantor_name_masked: await nameOf(row.grantor_account_id),
      grantee_name_masked: await nameOf(row.grantee_account_id),
      scope: row.scope,
      valid_from: iso(row.valid_from),
      valid_until: iso(row.valid_until),
      may_redelegate: row.may_redelegate,
      status: lapsed ? 'expired' : row.status,
      version: row.version,
      ...(row.revoked_at ? { revoked_at: iso(row.revoked_at) } : {}),
    };
  }

  async function request(row: RequestRow) {
    return {
      id: row.id,
      enterprise_id: row.enterprise_id,
      requester_name_masked: await nameOf(row.requester_account_id),
      scope: row.scope,
      valid_from: iso(row.valid_from),
      valid_until: iso(row.valid_until),
      reason: row.reason,
      status: row.status,
      ...(row.grant_id ? { grant_id: row.grant_id } : {}),
    };
  }

  function enterprise(row: EnterpriseRow) {
    return { id: row.id, name: row.name, uscc_masked: maskUscc(row.uscc), type: row.type, status: row.status };
  }

  return { grant, request, enterprise, nameOf };
}
