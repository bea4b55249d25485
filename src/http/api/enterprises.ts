import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { enterpriseView } from '../../enterprises/enterprises.js';
import { bearerGuard, principalOf } from '../account/api.js';
import type { AccountCentreDependencies } from '../account/routes.js';
import { captchaOf } from '../account/schemas.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import type { ApiOperation } from './openapi.js';

const captcha = { captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional() };

/** Inputs of the enterprise operations, shared by the pages (which add `csrf`) and the JSON API. */
export const enterpriseSchemas = {
  register: z.object({
    uscc: z.string().trim().min(1).max(32),
    name: z.string().trim().min(1).max(200),
    /** Someone other than the legal representative, asking for their approval. */
    on_behalf: z.boolean().optional(),
    ...captcha,
  }),
  captchaOnly: z.object(captcha),
  code: z.object({ code: z.string().trim().min(1).max(10) }),
  password: z.object({ password: z.string().min(1).max(256), code: z.string().trim().min(1).max(10) }),
};

/** What the account holds for enterprises: the ones it represents and the applications it started or must decide. */
export async function enterpriseOverview(deps: AccountCentreDependencies, accountId: string) {
  const held = await deps.enterprises.representedBy(accountId);
  return { enterprises: held.map(enterpriseView), applications: await deps.enterpriseRegistration.listFor(accountId) };
}

/**
 * Enterprises as JSON (Authorization: Bearer <access token>): registration and its
 * applications, the representative's enterprises, and the enterprise password.
 */
export function enterprisesApi(deps: AccountCentreDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/enterprises' });
  const registration = deps.enterpriseRegistration;
  const accountId = (ctx: Context) => principalOf(ctx).accountId;
  const applicationId = (ctx: Context) => ctx.params.applicationId ?? '';

  router.use(noStore);
  router.use(bearerGuard(deps));

  router.get('/', async (ctx) => {
    ctx.body = await enterpriseOverview(deps, accountId(ctx));
  });

  router.post('/', json, async (ctx) => {
    const input = parseInput(enterpriseSchemas.register, ctx.request.body);
    ctx.status = 201;
    ctx.body = await registration.start(accountId(ctx), { uscc: input.uscc, name: input.name, onBehalf: input.on_behalf }, { ip: ctx.ip, captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.get('/applications/:applicationId', async (ctx) => {
    ctx.body = await registration.application(accountId(ctx), applicationId(ctx));
  });

  router.post('/applications/:applicationId/code', json, async (ctx) => {
    const input = parseInput(enterpriseSchemas.captchaOnly, ctx.request.body);
    ctx.body = await registration.sendCode(accountId(ctx), applicationId(ctx), { ip: ctx.ip, captcha: captchaOf(input) });
  });

  router.post('/applications/:applicationId/confirm', json, async (ctx) => {
    const input = parseInput(enterpriseSchemas.code, ctx.request.body);
    ctx.body = await registration.confirm(accountId(ctx), applicationId(ctx), input.code, requestMeta(ctx));
  });

  router.post('/applications/:applicationId/approve', async (ctx) => {
    ctx.body = await registration.approve(accountId(ctx), applicationId(ctx), requestMeta(ctx));
  });

  router.post('/applications/:applicationId/reject', async (ctx) => {
    ctx.body = await registration.reject(accountId(ctx), applicationId(ctx), requestMeta(ctx));
  });

  router.post('/applications/:applicationId/withdraw', async (ctx) => {
    ctx.body = await registration.withdraw(accountId(ctx), applicationId(ctx), requestMeta(ctx));
  });

  router.get('/:enterpriseId', async (ctx) => {
    ctx.body = enterpriseView(await deps.enterprises.heldBy(ctx.params.enterpriseId ?? '', accountId(ctx)));
  });

  /** The code comes from POST /api/v1/account/codes with operation `enterprise_password`. */
  router.post('/:enterpriseId/password', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(enterpriseSchemas.password, ctx.request.body);
    await deps.enterpriseLogin.setPassword(who.accountId, ctx.params.enterpriseId ?? '', input, who.key, requestMeta(ctx));
    ctx.status = 204;
  });

  return router;
}

const base = '/api/v1/enterprises';
const application = `${base}/applications/:applicationId`;

export const enterpriseOperations: ApiOperation[] = [
  { method: 'get', path: base, tag: 'enterprises', bearer: true, summary: 'Enterprises I represent (root authority, level 0), my applications and those waiting for my approval', returns: '{ enterprises, applications: { mine, awaiting_me } }' },
  { method: 'post', path: base, tag: 'enterprises', bearer: true, summary: 'Register an enterprise (or claim it after a change of legal representative) by USCC and name; checked against the business register. The representative gets an SMS code at once; with on_behalf, the application waits for the representative', body: enterpriseSchemas.register, returns: '{ application, code_sent_to? }', status: 201 },
  { method: 'get', path: application, tag: 'enterprises', bearer: true, summary: 'An application I started or must decide', returns: 'the application' },
  { method: 'post', path: `${application}/code`, tag: 'enterprises', bearer: true, summary: 'Send (again) the SMS code to the representative\'s phone on the register; applicant only', body: enterpriseSchemas.captchaOnly, returns: '{ code_sent_to }' },
  { method: 'post', path: `${application}/confirm`, tag: 'enterprises', bearer: true, summary: 'The code from the representative\'s phone: the enterprise is registered and bound to the representative', body: enterpriseSchemas.code, returns: '{ application, enterprise_id }' },
  { method: 'post', path: `${application}/approve`, tag: 'enterprises', bearer: true, summary: 'The legal representative approves someone else\'s application from their own account', returns: '{ application, enterprise_id }' },
  { method: 'post', path: `${application}/reject`, tag: 'enterprises', bearer: true, summary: 'The legal representative rejects someone else\'s application', returns: 'the application' },
  { method: 'post', path: `${application}/withdraw`, tag: 'enterprises', bearer: true, summary: 'The applicant withdraws a pending application', returns: 'the application' },
  { method: 'get', path: `${base}/:enterpriseId`, tag: 'enterprises', bearer: true, summary: 'One enterprise I represent', returns: 'the enterprise' },
  { method: 'post', path: `${base}/:enterpriseId/password`, tag: 'enterprises', bearer: true, summary: 'Set the enterprise-account password (for USCC + password + SMS login); the code is from POST /api/v1/account/codes with operation enterprise_password', body: enterpriseSchemas.password, returns: 'done', status: 204 },
];
