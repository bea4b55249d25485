import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { enterpriseView } from '../../enterprises/enterprises.js';
import type { SignedIn } from '../../flows/holder.js';
import { bearerGuard, principalOf } from '../account/api.js';
import type { AccountCentreDependencies } from '../account/routes.js';
import { captchaOf } from '../account/schemas.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import type { ErrorCode } from '../../errors.js';
import { at, enterpriseStatus, enterpriseType, registryStatus } from './common-schemas.js';
import { SMS_CODE_ERRORS, SMS_SEND_ERRORS, type ApiOperation } from './openapi.js';

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
export async function enterpriseOverview(deps: AccountCentreDependencies, who: SignedIn) {
  const held = await deps.enterprises.representedBy(who.accountId);
  return { enterprises: held.map(enterpriseView), applications: await deps.enterpriseRegistration.listFor(who) };
}

/**
 * Enterprises as JSON (Authorization: Bearer <access token>): registration and its
 * applications, the representative's enterprises, and the enterprise password.
 */
export function enterprisesApi(deps: AccountCentreDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/enterprises' });
  const registration = deps.enterpriseRegistration;
  const accountId = (ctx: Context) => principalOf(ctx).accountId;
  const who = (ctx: Context) => principalOf(ctx);
  const applicationId = (ctx: Context) => ctx.params.applicationId ?? '';

  router.use(noStore);
  router.use(bearerGuard(deps));

  router.get('/', async (ctx) => {
    ctx.body = await enterpriseOverview(deps, who(ctx));
  });

  router.post('/', json, async (ctx) => {
    const input = parseInput(enterpriseSchemas.register, ctx.request.body);
    ctx.status = 201;
    ctx.body = await registration.start(who(ctx), { uscc: input.uscc, name: input.name, onBehalf: input.on_behalf }, { ip: ctx.ip, captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.get('/applications/:applicationId', async (ctx) => {
    ctx.body = await registration.application(who(ctx), applicationId(ctx));
  });

  router.post('/applications/:applicationId/code', json, async (ctx) => {
    const input = parseInput(enterpriseSchemas.captchaOnly, ctx.request.body);
    ctx.body = await registration.sendCode(who(ctx), applicationId(ctx), { ip: ctx.ip, captcha: captchaOf(input) });
  });

  router.post('/applications/:applicationId/confirm', json, async (ctx) => {
    const input = parseInput(enterpriseSchemas.code, ctx.request.body);
    ctx.body = await registration.confirm(who(ctx), applicationId(ctx), input.code, requestMeta(ctx));
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

const applicationView = z.object({
  id: z.string(),
  uscc: z.string(),
  name: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'withdrawn', 'superseded']),
  completes_by: z.array(z.enum(['code', 'representative'])),
  applicant_masked: z.string(),
  continues_here: z.boolean().describe('whether this token may send the code and confirm: the applicant\'s, with the login (grant) that started the application'),
  expires_at: at,
  created_at: at,
  enterprise_id: z.string().optional(),
});
const enterpriseSchema = z.object({
  id: z.string(),
  uscc: z.string(),
  name: z.string(),
  type: enterpriseType,
  status: enterpriseStatus,
  registry_status: registryStatus,
  registry_checked_at: at,
  role: z.literal('legal_representative'),
  level: z.literal(0),
  representative_since: at.nullable(),
  enterprise_password_set: z.boolean(),
});

/** Answers of the enterprise operations (enterprises/registration.ts ApplicationView, enterprises.ts EnterpriseView). */
export const enterpriseResponses = {
  overview: z.object({ enterprises: z.array(enterpriseSchema), applications: z.object({ mine: z.array(applicationView), awaiting_me: z.array(applicationView) }) }),
  started: z.object({ application: applicationView, code_sent_to: z.string().optional().describe('the representative\'s register phone, masked, when the code went out at once') }),
  application: applicationView,
  codeSent: z.object({ code_sent_to: z.string() }),
  completed: z.object({ application: applicationView, enterprise_id: z.string() }),
  enterprise: enterpriseSchema,
};

/** The register is asked again at every step that relies on it. */
const REGISTER: ErrorCode[] = ['enterprise_not_in_registry', 'enterprise_not_active', 'enterprise_name_mismatch', 'enterprise_representative_mismatch', 'registry_unavailable'];
const MINE: ErrorCode[] = ['enterprise_application_not_found'];
const e = enterpriseResponses;

export const enterpriseOperations: ApiOperation[] = [
  { method: 'get', path: base, tag: 'enterprises', bearer: true, summary: 'Enterprises I represent (root authority, level 0), my applications and those waiting for my approval', returns: 'the enterprises and applications', response: e.overview },
  { method: 'post', path: base, tag: 'enterprises', bearer: true, summary: 'Register an enterprise (or claim it after a change of legal representative) by USCC and name; checked against the business register. The representative gets an SMS code at once; with on_behalf, the application waits for the representative', body: enterpriseSchemas.register, returns: 'the application, and where the code went', status: 201, response: e.started, errors: ['invalid_uscc', 'assurance_too_low', ...REGISTER, 'enterprise_representative_not_registered', 'attempts_exceeded', 'enterprise_already_registered', 'enterprise_application_rejected', 'enterprise_application_pending', ...SMS_SEND_ERRORS] },
  { method: 'get', path: application, tag: 'enterprises', bearer: true, summary: 'An application I started or must decide', returns: 'the application', response: e.application, errors: MINE },
  { method: 'post', path: `${application}/code`, tag: 'enterprises', bearer: true, summary: 'Send (again) the SMS code to the representative\'s phone on the register; only with the login that started the application (flow_expired otherwise)', body: enterpriseSchemas.captchaOnly, returns: 'where the code went', response: e.codeSent, errors: [...MINE, 'flow_expired', 'invalid_uscc', ...REGISTER, ...SMS_SEND_ERRORS] },
  { method: 'post', path: `${application}/confirm`, tag: 'enterprises', bearer: true, summary: 'The code from the representative\'s phone: the enterprise is registered and bound to the representative; only with the login that started the application (flow_expired otherwise)', body: enterpriseSchemas.code, returns: 'the application (approved) and the enterprise', response: e.completed, errors: [...MINE, 'flow_expired', 'invalid_uscc', ...REGISTER, ...SMS_CODE_ERRORS, 'enterprise_representative_not_registered', 'enterprise_already_registered'] },
  { method: 'post', path: `${application}/approve`, tag: 'enterprises', bearer: true, summary: 'The legal representative approves someone else\'s application from their own account', returns: 'the application (approved) and the enterprise', response: e.completed, errors: [...MINE, 'assurance_too_low', 'enterprise_not_representative', 'invalid_uscc', ...REGISTER, 'enterprise_already_registered'] },
  { method: 'post', path: `${application}/reject`, tag: 'enterprises', bearer: true, summary: 'The legal representative rejects someone else\'s application', returns: 'the application (rejected)', response: e.application, errors: [...MINE, 'assurance_too_low', 'enterprise_not_representative'] },
  { method: 'post', path: `${application}/withdraw`, tag: 'enterprises', bearer: true, summary: 'The applicant withdraws a pending application, from any of their logins', returns: 'the application (withdrawn)', response: e.application, errors: MINE },
  { method: 'get', path: `${base}/:enterpriseId`, tag: 'enterprises', bearer: true, summary: 'One enterprise I represent', returns: 'the enterprise', response: e.enterprise, errors: ['enterprise_not_found', 'enterprise_not_representative'] },
  { method: 'post', path: `${base}/:enterpriseId/password`, tag: 'enterprises', bearer: true, summary: 'Set the enterprise-account password (for USCC + password + SMS login); the code is from POST /api/v1/account/codes with operation enterprise_password', body: enterpriseSchemas.password, returns: 'done', status: 204, errors: ['enterprise_not_found', 'enterprise_not_representative', 'enterprise_not_active', 'registry_unavailable', 'weak_password', ...SMS_CODE_ERRORS, 'phone_required'] },
];
