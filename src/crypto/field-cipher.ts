import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey } from '../config/secrets.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {}

/**
 * AES-256-GCM for values at rest. Each ciphertext names the key that made it
 * (`v1.<key id>.<iv>.<ciphertext+tag>`), so keys can rotate without rewriting data.
 * `context` binds a value to its place (for example a table and column): a ciphertext
 * copied into another column will not decrypt.
 */
export class FieldCipher {
  private readonly byId: Map<string, Buffer>;
  private readonly active: DataKey;

  constructor(keys: DataKey[]) {
    if (keys.length === 0) throw new Error('at least one data key is required');
    this.active = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.active.id, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  decrypt(envelope: string, context: string): string {
    const parts = envelope.split('.');
    const [version, keyId, ivText, bodyText] = parts;
    if (parts.length !== 4 || version !== VERSION || !keyId || !ivText || !bodyText) throw new DecryptionError('not a field ciphertext');
    const key = this.byId.get(keyId);
    if (!key) throw new DecryptionError(`data key "${keyId}" is not configured`);
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    // A body shorter than a full tag would leave a truncated tag, which GCM would accept.
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new DecryptionError('ciphertext is malformed');
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError('ciphertext failed authentication');
    }
  }

  /** True when the value was made with an older key and should be re-encrypted. */
  isStale(envelope: string): boolean {
    return envelope.split('.')[1] !== this.active.id;
  }
}
