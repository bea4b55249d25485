import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * True when the RP-initiated logout came with an id_token_hint (already verified by
 * oidc-provider: our signature, a client of ours) that was issued in the very session the
 * browser is in: its `sid` is the one this session gave that client. Then the relying party
 * has shown who is signing out, and the confirmation page submits itself. A hint from an
 * earlier session, or without `sid`, still gets the page (so does no hint); an invalid one
 * never reaches it (oidc-provider answers with an error page).
 */
export function hintNamesThisSession(ctx: KoaContextWithOIDC): boolean {
  const { client, session, entities } = ctx.oidc;
  const hint = (entities as { IdTokenHint?: { payload?: { sid?: unknown; aud?: unknown } } }).IdTokenHint;
  if (!client || !session?.accountId || typeof hint?.payload?.sid !== 'string') return false;
  return hint.payload.aud === client.clientId && session.sidFor(client.clientId) === hint.payload.sid;
}
