import { jsonBody } from '../body.js';
import Router from '@koa/router';
import { z } from 'zod';
import type { Recovery } from '../../flows/recovery.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { codeSent, epochSeconds, flowChannel } from './common-schemas.js';
import { API_FLOW_STARTER, apiFlowRef } from './flow-ref.js';

export const recoverySchemas = {
  identity: z.object({
    name: z.string().trim().min(1).max(50),
    id_number: z.string().trim().min(1).max(32),
    captcha_id: z.string().max(64).optional(),
    captcha_answer: z.string().max(16).optional(),
  }),
  resend: z.object({ captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional() }),
  code: z.object({ code: z.string().trim().min(1).max(10) }),
  password: z.object({ password: z.string().min(1).max(256) }),
};

/** Answers of the recovery flow: deliberately nothing about the account (flows/recovery.ts RecoveryView). */
export const recoveryResponses = {
  flow: z.object({
    flow_id: z.string(),
    flow_token: z.string().optional().describe('only in the answer that starts the flow'),
    channel: flowChannel,
    state: z.enum(['identity', 'code_sent', 'password', 'complete']),
    expires_at: epochSeconds,
  }),
  codeSent,
};

/**
 * Password recovery as JSON, for the app and the mini-program. Like registration, the flow
 * is bound to its flow token (X-Flow-Token); the answers never say whether the identity matched.
 */
export function recoveryApi(recovery: Recovery): Router {
  const router = new Router({ prefix: '/api/v1/recovery' });
  const json = jsonBody();

  router.post('/', async (ctx) => {
    ctx.status = 201;
    ctx.body = await recovery.start(API_FLOW_STARTER);
  });

  router.get('/:flowId', async (ctx) => {
    ctx.body = await recovery.get(apiFlowRef(ctx));
  });

  router.post('/:flowId/identity', json, async (ctx) => {
    const input = parseInput(recoverySchemas.identity, ctx.request.body);
    ctx.body = await recovery.submitIdentity(apiFlowRef(ctx), {
      name: input.name, idNumber: input.id_number, captcha: { id: input.captcha_id, answer: input.captcha_answer },
    }, requestMeta(ctx));
  });

  router.post('/:flowId/code/resend', json, async (ctx) => {
    const input = parseInput(recoverySchemas.resend, ctx.request.body);
    ctx.body = await recovery.resendCode(apiFlowRef(ctx), { captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
  });

  router.post('/:flowId/code', json, async (ctx) => {
    const input = parseInput(recoverySchemas.code, ctx.request.body);
    ctx.body = await recovery.verifyCode(apiFlowRef(ctx), { code: input.code });
  });

  router.post('/:flowId/password', json, async (ctx) => {
    const input = parseInput(recoverySchemas.password, ctx.request.body);
    ctx.body = await recovery.setPassword(apiFlowRef(ctx), { password: input.password }, requestMeta(ctx));
  });

  return router;
}
