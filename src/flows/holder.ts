import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Binding a multi-step process to whoever started it. The starter's secret (a browser's
 * binding cookie, an API flow token, or the key of a signed-in principal: its SSO session
 * or the grant behind its token) is kept only as a digest; every later step presents its
 * own and is compared with it.
 */
export function holderDigest(secret: string): string {
  return createHash('sha256').update(`flow-holder\0${secret}`).digest('base64url');
}

/** Whether `presented` is the secret `digest` was made from; nothing presented never matches. */
export function isHolder(digest: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(digest);
  const actual = Buffer.from(holderDigest(presented));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A signed-in person as the holder of a flow they start: the account, and the key of what
 * they are signed in with (http/account/principal.ts: the SSO session for pages, the grant
 * behind the token for the API). Another session, another login of the same client or
 * another client's token of the same person has another key.
 */
export interface SignedIn {
  accountId: string;
  key: string;
}
