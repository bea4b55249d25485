import { z } from 'zod';

/**
 * Pieces of answers that many operations share, for their response schemas (the OpenAPI
 * document's success bodies). Times are ISO 8601 in UTC, except a flow's `expires_at`,
 * which is seconds since the epoch as it has always been.
 */
export const at = z.iso.datetime();
export const epochSeconds = z.number().int();
export const flowChannel = z.enum(['browser', 'api']);
export const factorKind = z.enum(['phone', 'social_security_card', 'bank_card', 'housing_fund', 'driving_licence']);
export const maskedFactor = z.object({ kind: factorKind, masked: z.string() });
/** An SMS code was sent; it is valid this long. */
export const codeSent = z.object({ ttl_seconds: z.number().int() });
/** A security record as its subject (or staff) sees it; `details` differ by action. */
export const securityEvent = z.object({ at, action: z.string(), result: z.enum(['success', 'failure', 'denied']), details: z.record(z.string(), z.unknown()) });
export const enterpriseType = z.enum(['company', 'individual_business', 'social_organization', 'public_institution']);
export const enterpriseStatus = z.enum(['active', 'banned', 'deregistered']);
export const registryStatus = z.enum(['active', 'revoked', 'cancelled']);

/**
 * Present (true) when the act is done but ending its logins met a store fault: they are
 * ended by the logout outbox, retried every LOGOUT_RETRY_SECONDS until done.
 */
export const loginsPending = z.literal(true).optional()
  .describe('present when the act is done and its logins are still being ended (a store fault): retried every LOGOUT_RETRY_SECONDS until done');
