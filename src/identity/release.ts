/**
 * Which personal data a reader may have whole (PIPL: minimum necessary). A relying party's
 * is set by its access policy (oidc/account-claims.ts releaseTo) and applies wherever it
 * reads the person: claims and the account API alike. What it may not have whole it gets
 * masked, or not at all.
 */
export interface Release {
  idNumber: boolean;
  phone: boolean;
  name: boolean;
  /**
   * The internal account id. A client with pairwise subjects knows the person by another
   * `sub`, and must not learn the id that would let it correlate them with other sectors.
   */
  accountId: boolean;
}

/** The account centre's own pages: the signed-in owner, on the provider's own origin. */
export const OWNER_RELEASE: Readonly<Release> = Object.freeze({ idNumber: true, phone: true, name: true, accountId: true });

/** A reader no policy speaks for. */
export const NOTHING_RELEASED: Readonly<Release> = Object.freeze({ idNumber: false, phone: false, name: false, accountId: false });
