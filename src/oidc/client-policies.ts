import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import { accessPolicySchema, type AccessPolicy } from './access-policy.js';
import type { ClientRegistry } from './clients.js';

/**
 * Editing a client's access policy, as the administration console does: the input is
 * validated, the change is stored and audited with who made it, and it applies to the
 * next authorization on every instance (authorization reads the policy fresh).
 */
export class ClientPolicies {
  constructor(private readonly clients: ClientRegistry, private readonly audit: AuditLog) {}

  async update(clientId: string, input: unknown, actor: { kind: 'staff' | 'system'; id?: string }, meta: RequestMeta = {}): Promise<AccessPolicy> {
    const parsed = accessPolicySchema.safeParse(input);
    if (!parsed.success) throw new AppError('invalid_input', { field: `access_policy.${parsed.error.issues[0]?.path.join('.') ?? ''}` });
    const changed = await this.clients.replacePolicy(clientId, parsed.data);
    if (!changed) throw new AppError('not_found');
    await this.audit.append({
      actor,
      action: 'client.policy_change',
      target: { kind: 'client', id: clientId },
      result: 'success',
      details: { before: changed.before, after: changed.after },
      meta,
    });
    return changed.after;
  }
}
