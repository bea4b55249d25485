import type { Configuration } from 'oidc-provider';
import type { KeyedDigest } from '../crypto/digest.js';

/**
 * Pairwise subjects by a configured sector. A client with `subject_sector` gets a `sub`
 * that is the same for every client of that sector (the province's portal, app and
 * mini-program) and unrelated across sectors (departments cannot correlate people).
 *
 * OpenID Connect derives the sector from `sector_identifier_uri`, a document the provider
 * must fetch; ours are named in the client's metadata instead, because the provider runs
 * where it cannot fetch one and a client's redirect URIs (web and native) span several
 * hosts. Clients without `subject_sector` get the account id as a public `sub`.
 */
export const SUBJECT_SECTOR = 'subject_sector';

const SECTOR = /^[a-z0-9](?:[a-z0-9.-]{0,126}[a-z0-9])?$/;
const PURPOSE = 'pairwise-subject';

/** Validates `subject_sector` (extraClientMetadata): a lower-case name such as `gov.example` or `tax.gov.example`. */
export function validateSubjectSector(key: string, value: unknown): void {
  if (key !== SUBJECT_SECTOR || value === undefined) return;
  if (typeof value !== 'string' || !SECTOR.test(value)) {
    throw new Error(`${SUBJECT_SECTOR} must be a lower-case name of letters, digits, "." and "-" (such as gov.example)`);
  }
}

/** The client's sector: its configured one, else what oidc-provider derived (for `subject_type: pairwise` alone). */
export function sectorOf(client: { sectorIdentifier?: string } & Record<string, unknown>): string {
  const configured = client[SUBJECT_SECTOR];
  return typeof configured === 'string' ? configured : String(client.sectorIdentifier ?? '');
}

/**
 * A keyed digest of sector and account: stable across logins and restarts (it depends on
 * BLIND_INDEX_KEY only), and not reversible to the account id without that key.
 */
export function pairwiseIdentifier(digest: KeyedDigest): NonNullable<Configuration['pairwiseIdentifier']> {
  return (_ctx, accountId, client) => digest.digest(PURPOSE, `${sectorOf(client as unknown as Record<string, unknown>)}\0${accountId}`);
}
