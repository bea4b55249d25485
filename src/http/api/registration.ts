import { jsonBody } from '../body.js';
import Router from '@koa/router';
import { z } from 'zod';
import type { Registration } from '../../flows/registration.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { API_FLOW_STARTER, apiFlowRef } from './flow-ref.js';
import { codeSent, epochSeconds, flowChannel, maskedFactor } from './common-schemas.js';
import { FLOW_ERRORS, REALNAME_CHECK_ERRORS, SMS_CODE_ERRORS, SMS_SEND_ERRORS, type ApiOperation } from './openapi.js';

export const documentFactorKinds = ['social_security_card', 'bank_card', 'housing_fund', 'driving_licence'] as const;

/** A captcha answer (POST /api/v1/captchas gives one), asked for once a limit's captcha-free allowance is spent. */
const captchaFields = { captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional() };

export const registrationSchemas = {
  identity: z.object({ name: z.string().trim().min(1).max(50), id_number: z.string().trim().min(1).max(32), ...captchaFields }),
  phoneCode: z.object({ phone: z.string().trim().min(1).max(20), ...captchaFields }),
  phoneVerify: z.object({ code: z.string().trim().min(1).max(10) }),
  factor: z.object({ kind: z.enum(documentFactorKinds), number: z.string().trim().min(1).max(40), reserved_phone: z.string().trim().max(20).optional(), ...captchaFields }),
  complete: z.object({ password: z.string().min(1).max(256), accept_agreement: z.boolean(), without_phone: z.boolean().optional() }),
};

export function captchaOf(input: { captcha_id?: string; captcha_answer?: string }): { id?: string; answer?: string } {
  return { id: input.captcha_id, answer: input.captcha_answer };
}

const tag = 'registration';
const flow = '/api/v1/registration/:flowId';

/** Answers of the registration flow (flows/registration.ts RegistrationView): personal data masked. */
export const registrationResponses = {
  flow: z.object({
    flow_id: z.string(),
    flow_token: z.string().optional().describe('only in the answer that starts the flow'),
    channel: flowChannel,
    state: z.enum(['identity', 'factors', 'complete']),
    expires_at: epochSeconds,
    identity: z.object({ name_masked: z.string(), id_number_masked: z.string() }).optional(),
    verified_factors: z.array(maskedFactor),
    phone: z.object({ masked: z.string(), verified: z.boolean() }).optional(),
    factors_needed: z.number().int(),
    ready_to_complete: z.boolean(),
    ready_without_phone: z.boolean(),
    account_id: z.string().optional(),
  }),
  codeSent,
};

const FLOW = FLOW_ERRORS;
const answers = registrationResponses;

export const registrationOperations: ApiOperation[] = [
  { method: 'post', path: '/api/v1/registration', tag, summary: 'Start a registration flow', returns: 'the flow (state identity), with its flow_token: send it as X-Flow-Token on every later call of the flow', status: 201, response: answers.flow },
  { method: 'get', path: flow, tag, summary: 'The flow as it stands (masked data)', returns: 'the flow', response: answers.flow, errors: ['flow_expired'] },
  { method: 'post', path: `${flow}/identity`, tag, summary: 'Name and citizen ID, checked against the population registry (wrong answers are limited; a captcha may be required)', body: registrationSchemas.identity, returns: 'the flow (state factors)', response: answers.flow, errors: [...FLOW, 'invalid_id_number', 'identity_mismatch', ...REALNAME_CHECK_ERRORS] },
  { method: 'post', path: `${flow}/phone/code`, tag, summary: 'Send an SMS code to the phone to bind (a captcha may be required)', body: registrationSchemas.phoneCode, returns: 'the code\'s lifetime', response: answers.codeSent, errors: [...FLOW, 'invalid_phone', ...SMS_SEND_ERRORS] },
  { method: 'post', path: `${flow}/phone/verify`, tag, summary: 'Verify the SMS code; the carrier check decides whether the phone also counts as a factor', body: registrationSchemas.phoneVerify, returns: 'the flow', response: answers.flow, errors: [...FLOW, ...SMS_CODE_ERRORS, 'registry_unavailable'] },
  { method: 'post', path: `${flow}/factors`, tag, summary: 'Verify a further factor against its registry (wrong answers are limited; a captcha may be required)', body: registrationSchemas.factor, returns: 'the flow', response: answers.flow, errors: [...FLOW, 'factor_duplicate', 'factor_mismatch', 'invalid_phone', ...REALNAME_CHECK_ERRORS] },
  { method: 'post', path: `${flow}/complete`, tag, summary: 'Password and service agreement; creates the account (assurance level 2). Without a verified phone, send without_phone: true (two other factors suffice; no SMS login, recovery at a counter)', body: registrationSchemas.complete, returns: 'the flow (state complete, account_id)', response: answers.flow, errors: [...FLOW, 'factors_insufficient', 'phone_required', 'agreement_required', 'weak_password', 'already_registered', 'phone_in_use'] },
];

/**
 * The registration flow as JSON, for the app and the mini-program. The flow is bound to
 * the flow token handed out when it starts (X-Flow-Token): its id alone continues nothing.
 */
export function registrationApi(registration: Registration): Router {
  const router = new Router({ prefix: '/api/v1/registration' });
  const json = jsonBody();

  router.post('/', async (ctx) => {
    ctx.status = 201;
    ctx.body = await registration.start(API_FLOW_STARTER);
  });

  router.get('/:flowId', async (ctx) => {
    ctx.body = await registration.get(apiFlowRef(ctx));
  });

  router.post('/:flowId/identity', json, async (ctx) => {
    const input = parseInput(registrationSchemas.identity, ctx.request.body);
    ctx.body = await registration.submitIdentity(apiFlowRef(ctx), { name: input.name, idNumber: input.id_number, captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.post('/:flowId/phone/code', json, async (ctx) => {
    const input = parseInput(registrationSchemas.phoneCode, ctx.request.body);
    ctx.body = await registration.sendPhoneCode(apiFlowRef(ctx), { phone: input.phone, captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.post('/:flowId/phone/verify', json, async (ctx) => {
    const input = parseInput(registrationSchemas.phoneVerify, ctx.request.body);
    ctx.body = await registration.verifyPhone(apiFlowRef(ctx), { code: input.code });
  });

  router.post('/:flowId/factors', json, async (ctx) => {
    const input = parseInput(registrationSchemas.factor, ctx.request.body);
    ctx.body = await registration.verifyFactor(apiFlowRef(ctx), { kind: input.kind, number: input.number, reservedPhone: input.reserved_phone, captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.post('/:flowId/complete', json, async (ctx) => {
    const input = parseInput(registrationSchemas.complete, ctx.request.body);
    ctx.body = await registration.complete(apiFlowRef(ctx), { password: input.password, acceptAgreement: input.accept_agreement, withoutPhone: input.without_phone }, requestMeta(ctx));
  });

  return router;
}
