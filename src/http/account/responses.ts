import { z } from 'zod';
import { at, loginsPending, codeSent, epochSeconds, factorKind, flowChannel, maskedFactor, securityEvent } from '../api/common-schemas.js';

const registrationChannel = z.enum(['online', 'counter', 'federation']);
const verifiedFactor = z.object({ kind: factorKind, masked: z.string(), verified_at: at });

/** A session as its owner (or staff) sees it: `handle` names it without the id its cookie holds (oidc/account-sessions.ts). */
export const sessionView = z.object({
  handle: z.string(),
  login_at: at.optional(),
  clients: z.array(z.string()),
  amr: z.array(z.string()).optional(),
  current: z.boolean(),
});

/** Answers of the account API (account/api.ts), for the OpenAPI document. */
export const accountResponses = {
  overview: z.object({
    id: z.string().optional().describe('the account id; absent for a client with pairwise subjects'),
    name_masked: z.string(),
    id_number_masked: z.string(),
    assurance_level: z.number().int(),
    registration_channel: registrationChannel,
    phone_masked: z.string().optional(),
    address: z.string().optional().describe('shown whole to its owner only'),
    totp_enabled: z.boolean(),
    recovery_codes_left: z.number().int().optional(),
    factors: z.array(verifiedFactor),
    registered_at: at,
    password_changed_at: at.optional(),
  }),
  sessions: z.object({ sessions: z.array(sessionView) }),
  events: z.object({ events: z.array(securityEvent) }),
  revoked: z.object({ revoked_sessions: z.number().int(), revoked_grants: z.number().int(), logins_pending: loginsPending }),
  codeSent: codeSent.extend({ phone_masked: z.string() }),
  totpStarted: z.object({ secret: z.string(), otpauth_uri: z.string(), qr_code: z.string().describe('a data: URL of a PNG'), expires_in: z.number().int() }),
  totpConfirmed: z.object({ totp_enabled: z.literal(true), recovery_codes: z.array(z.string()) }),
  recoveryCodes: z.object({ recovery_codes: z.array(z.string()) }),
  totpDisabled: z.object({ totp_enabled: z.literal(false) }),
  export: z.object({
    format: z.literal('civic-idp.account-export/1'),
    exported_at: at,
    profile: z.object({
      id: z.string().optional().describe('the account id; absent for a client with pairwise subjects'),
      status: z.enum(['active', 'banned', 'deregistered']),
      assurance_level: z.number().int(),
      registration_channel: registrationChannel,
      name: z.string().optional().describe('whole only to a client whose access policy has release_name'),
      name_masked: z.string().optional().describe('instead of name for any other client'),
      id_number: z.string().optional().describe('whole only to a client whose access policy has release_id_number'),
      id_number_masked: z.string().optional().describe('instead of id_number for any other client'),
      phone: z.string().optional().describe('whole only to a client whose access policy has release_phone_number'),
      phone_masked: z.string().optional().describe('instead of phone for any other client'),
      address: z.string().optional(),
      registered_at: at,
      password_changed_at: at.optional(),
      totp_enabled_at: at.optional(),
    }),
    factors: z.array(verifiedFactor),
    sessions: z.array(z.object({ login_at: at.optional(), clients: z.array(z.string()), amr: z.array(z.string()).optional() })),
    security_events: z.array(securityEvent),
    agreement: z.object({ version: z.string().optional(), accepted_at: at.optional() }),
  }),
};

/** Answers of phone re-binding (flows/phone-rebinding.ts RebindView). */
export const rebindResponses = {
  flow: z.object({
    flow_id: z.string(),
    channel: flowChannel,
    path: z.enum(['old_phone', 'identity']),
    state: z.enum(['old_code', 'identity', 'factors', 'new_code', 'complete']),
    expires_at: epochSeconds,
    old_phone_masked: z.string().optional(),
    new_phone_masked: z.string().optional(),
    verified_factors: z.array(maskedFactor),
    factors_needed: z.number().int(),
    result: z.object({ phone_masked: z.string(), carrier_verified: z.boolean() }).optional(),
  }),
  codeSent,
  newCodeSent: codeSent.extend({ new_phone_masked: z.string() }),
};
