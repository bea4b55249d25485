import { z } from 'zod';
import { OWNER_OPERATIONS } from '../../identity/owner-codes.js';
import { documentFactorKinds } from '../api/registration.js';

const code = z.string().trim().min(1).max(10);
const captcha = { captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional() };

/** The account centre's inputs, shared by the pages (which add `csrf`) and the JSON API. */
export const accountSchemas = {
  sendCode: z.object({ operation: z.enum(OWNER_OPERATIONS), ...captcha }),
  password: z.object({ current_password: z.string().min(1).max(256), new_password: z.string().min(1).max(256) }),
  address: z.object({ address: z.string().max(400), code }),
  totpConfirm: z.object({ code }),
  totpDisable: z.union([
    z.object({ code }),
    z.object({ recovery_code: z.string().trim().min(1).max(20), sms_code: code }),
  ]),
  rebindStart: z.object({ path: z.enum(['old_phone', 'identity']) }),
  captchaOnly: z.object(captcha),
  code: z.object({ code }),
  identity: z.object({ name: z.string().trim().min(1).max(50), id_number: z.string().trim().min(1).max(32) }),
  factor: z.object({ kind: z.enum(documentFactorKinds), number: z.string().trim().min(1).max(40), reserved_phone: z.string().trim().max(20).optional() }),
  newPhone: z.object({ phone: z.string().trim().min(1).max(20), ...captcha }),
  deregister: z.object({ code }),
};

export function captchaOf(input: { captcha_id?: string; captcha_answer?: string }) {
  return { id: input.captcha_id, answer: input.captcha_answer };
}
