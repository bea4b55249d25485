import { jsonBody } from '../body.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import type { ActingAuthority } from '../../delegation/acting-authority.js';
import type { QrApprover, QrLogins } from '../../flows/qr-login.js';
import type { Accounts } from '../../identity/accounts.js';
import { QR_LOGIN_SCOPE } from '../../oidc/configuration/claims.js';
import { bearerPrincipal, type BearerRequirement } from '../account/principal.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { at } from './common-schemas.js';
import type { ApiOperation } from './openapi.js';

const QR_APPROVER: BearerRequirement = { scope: QR_LOGIN_SCOPE, clientRefused: 'qr_client_not_allowed', scopeMissing: 'qr_scope_missing' };

export const qrLoginSchemas = {
  scan: z.object({ qr: z.string().min(1).max(200) }),
  decide: z.object({ qr: z.string().min(1).max(200), decision: z.enum(['confirm', 'deny']) }),
};

const tag = 'qr-login';
const needs = 'Bearer access token of a client registered with the qr_login scope, carrying that scope (else 403 qr_client_not_allowed or qr_scope_missing).';

/** Answers of the app's two QR calls. */
export const qrLoginResponses = {
  scan: z.object({
    client: z.object({ id: z.string(), name: z.string() }).describe('the service the browser is signing in to'),
    browser: z.object({ ip_approximate: z.string().nullable().describe('a /24 or /48'), user_agent: z.string().nullable() }),
    created_at: at,
    expires_at: at,
    expires_in: z.number().int(),
  }),
  decision: z.object({ status: z.enum(['confirmed', 'denied']) }),
};

export const qrLoginOperations: ApiOperation[] = [
  {
    method: 'post', path: '/api/v1/qr-login/scan', tag, bearer: QR_APPROVER, body: qrLoginSchemas.scan,
    summary: `PC login by QR code, step 1: the scanned text of the login page's QR code (civic-idp:qr-login:<id>). Claims the code for this account (another account then gets 409 qr_claimed). ${needs}`,
    returns: 'what to show the person before they decide', response: qrLoginResponses.scan, errors: ['qr_expired', 'qr_used', 'qr_claimed'],
  },
  {
    method: 'post', path: '/api/v1/qr-login/decision', tag, bearer: QR_APPROVER, body: qrLoginSchemas.decide,
    summary: `PC login by QR code, step 2: confirm or deny, once, by the account that scanned it; the page then signs in that account with amr qr. ${needs}`,
    returns: 'the decision recorded (a second decision is 409 qr_used)', response: qrLoginResponses.decision, errors: ['qr_expired', 'qr_used', 'qr_claimed', 'qr_not_scanned'],
  },
];

export interface QrLoginApiDependencies {
  provider: () => Provider;
  accounts: Accounts;
  acting: ActingAuthority;
  qrLogins: QrLogins;
}

/**
 * The app's access token, valid as for the account API (see account/principal.ts), issued
 * to a client registered with the qr_login scope, and carrying that scope.
 */
async function approver(deps: QrLoginApiDependencies, ctx: Context): Promise<QrApprover> {
  const who = await bearerPrincipal({ provider: deps.provider(), accounts: deps.accounts, acting: deps.acting }, ctx, QR_APPROVER);
  return { accountId: who.accountId, clientId: who.token!.clientId };
}

/**
 * PC login by QR code, the app's side: scan (claims the code, returns what to show the
 * person) and then confirm or deny, once.
 */
export function qrLoginApi(deps: QrLoginApiDependencies): Router {
  const router = new Router({ prefix: '/api/v1/qr-login' });
  const json = jsonBody('4kb');
  router.use(noStore);

  router.post('/scan', json, async (ctx) => {
    const who = await approver(deps, ctx);
    const input = parseInput(qrLoginSchemas.scan, ctx.request.body);
    const preview = await deps.qrLogins.scan(input.qr, who, requestMeta(ctx));
    ctx.body = {
      client: { id: preview.clientId, name: preview.clientName },
      browser: { ip_approximate: preview.browser.ipApproximate ?? null, user_agent: preview.browser.userAgent ?? null },
      created_at: new Date(preview.createdAt * 1000).toISOString(),
      expires_at: new Date(preview.expiresAt * 1000).toISOString(),
      expires_in: Math.max(0, preview.expiresAt - Math.floor(Date.now() / 1000)),
    };
  });

  router.post('/decision', json, async (ctx) => {
    const who = await approver(deps, ctx);
    const input = parseInput(qrLoginSchemas.decide, ctx.request.body);
    await deps.qrLogins.decide(input.qr, input.decision, who, requestMeta(ctx));
    ctx.body = { status: input.decision === 'confirm' ? 'confirmed' : 'denied' };
  });

  return router;
}
