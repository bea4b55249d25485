import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DataKey {
  id: string;
  key: Buffer;
}

export interface Secrets {
  /** AES-256-GCM keys for personal data and signing keys at rest; the first one encrypts. */
  dataKeys: DataKey[];
  /** HMAC-SHA-256 key for blind indexes and client secret digests. */
  blindIndexKey: Buffer;
  /** Keys for signed cookies; the first one signs. */
  cookieKeys: string[];
  /** True when the values came from the generated development file, which production refuses. */
  generated: boolean;
}

export class SecretFormatError extends Error {}

function decodeKey(text: string, what: string): Buffer {
  const key = Buffer.from(text, /^[0-9a-f]{64}$/i.test(text) ? 'hex' : 'base64url');
  if (key.length !== 32) {
    throw new SecretFormatError(`${what} must be 32 bytes, base64url or hex encoded (got ${key.length} bytes)`);
  }
  return key;
}

/** `DATA_ENCRYPTION_KEYS=k2:<base64url>,k1:<base64url>`: the first key encrypts, all decrypt. */
export function parseDataKeys(text: string): DataKey[] {
  const keys = text.split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const separator = entry.indexOf(':');
    if (separator < 1) throw new SecretFormatError('DATA_ENCRYPTION_KEYS entries must look like "id:key"');
    const id = entry.slice(0, separator);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new SecretFormatError(`DATA_ENCRYPTION_KEYS key id "${id}" must be 1-32 letters, digits, "_" or "-"`);
    return { id, key: decodeKey(entry.slice(separator + 1), `DATA_ENCRYPTION_KEYS key "${id}"`) };
  });
  if (keys.length === 0) throw new SecretFormatError('DATA_ENCRYPTION_KEYS holds no key');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new SecretFormatError('DATA_ENCRYPTION_KEYS has a repeated key id');
  return keys;
}

export function parseBlindIndexKey(text: string): Buffer {
  return decodeKey(text.trim(), 'BLIND_INDEX_KEY');
}

export function parseCookieKeys(text: string): string[] {
  const keys = text.split(',').map((k) => k.trim()).filter(Boolean);
  if (keys.length === 0) throw new SecretFormatError('COOKIE_KEYS holds no key');
  for (const key of keys) {
    if (key.length < 32) throw new SecretFormatError('COOKIE_KEYS entries must be at least 32 characters');
  }
  return keys;
}

interface DevSecretsFile {
  dataKey: string;
  blindIndexKey: string;
  cookieKey: string;
}

/**
 * Development and test runs need secrets without any setup; they are generated once
 * into KEYS_DIR (git-ignored) so that data written by one run can be read by the next.
 */
export function loadOrCreateDevSecrets(keysDir: string): DevSecretsFile {
  const file = join(keysDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecretsFile;
  mkdirSync(keysDir, { recursive: true });
  const secrets: DevSecretsFile = {
    dataKey: `dev1:${randomBytes(32).toString('base64url')}`,
    blindIndexKey: randomBytes(32).toString('base64url'),
    cookieKey: randomBytes(32).toString('base64url'),
  };
  // Written aside and linked into place, so a concurrent reader never sees half a file.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    // Another process created it first: use theirs so both agree.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(readFileSync(file, 'utf8')) as DevSecretsFile;
  } finally {
    unlinkSync(draft);
  }
  return secrets;
}
