import { randomBytes } from 'node:crypto';
import type { FieldCipher } from '../crypto/field-cipher.js';
import type { WechatIdentity } from '../ports/wechat/index.js';
import type { Cache } from '../store/cache.js';

/** Ten minutes: time for one login in the mini-program's web-view. */
export const BINDING_TICKET_SECONDS = 10 * 60;

export interface BindingTicket extends WechatIdentity {
  /** The client whose grant request found the identity unbound; only its tokens may redeem the ticket. */
  clientId: string;
}

/**
 * A binding ticket proves that its holder redeemed a fresh WeChat code for this identity.
 * It is issued when the grant finds the identity unbound, names the identity without
 * revealing it (an opaque id; the identity is encrypted in the cache), and is taken
 * exactly once, so a ticket seen by someone else after its use is worth nothing.
 */
export class BindingTickets {
  constructor(private readonly cache: Cache, private readonly cipher: FieldCipher) {}

  private key(id: string) {
    return `wechat:ticket:${id}`;
  }

  async issue(ticket: BindingTicket): Promise<{ ticket: string; expiresIn: number }> {
    const id = randomBytes(24).toString('base64url');
    const sealed = this.cipher.encrypt(JSON.stringify(ticket), this.key(id));
    await this.cache.set(this.key(id), sealed, BINDING_TICKET_SECONDS);
    return { ticket: id, expiresIn: BINDING_TICKET_SECONDS };
  }

  /** The ticket, removed in the same step; undefined when unknown, expired or already taken. */
  async take(id: string): Promise<BindingTicket | undefined> {
    if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return undefined;
    const sealed = await this.cache.take(this.key(id));
    return sealed ? JSON.parse(this.cipher.decrypt(sealed, this.key(id))) as BindingTicket : undefined;
  }
}
