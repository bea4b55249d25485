import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { PendingLogin } from '../../flows/pending-login.js';
import { QR_TTL_SECONDS, qrPayload, type QrLogins } from '../../flows/qr-login.js';
import type { CsrfTokens } from '../csrf.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { unlessStoreFault } from '../../store/faults.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
type PageError = { code: string; message: string };

/** What the QR code on a login page needs to be issued and shown. */
export interface QrCodeSource {
  qrLogins: QrLogins;
  clientName(details: Details): Promise<string>;
  /** The government app's link that takes the payload, for a phone that cannot scan its own screen. */
  appOpenUrl?: string;
}

/** What the login routes lend the QR tab, so it loads, renders and completes exactly as the other methods do. */
export interface QrLoginPageTools extends QrCodeSource {
  csrf: CsrfTokens;
  load(ctx: Context, expectedPrompt?: string): Promise<Details>;
  renderLogin(ctx: Context, details: Details, extra?: Record<string, unknown>, status?: number): Promise<void>;
  onPage(ctx: Context, page: (error?: PageError, status?: number) => Promise<void>, work: () => Promise<void>): Promise<void>;
  complete(ctx: Context, details: Details, pending: PendingLogin): Promise<void>;
}

const completeForm = z.object({ csrf: z.string(), qr: z.string().max(64) });
const statusParams = z.object({ uid: z.string(), id: z.string().max(64) });

/** The app link that hands a QR login's payload to the app on this phone. */
function appLink(base: string, payload: string): string {
  return `${base}${base.includes('?') ? '&' : '?'}qr=${encodeURIComponent(payload)}`;
}

/**
 * The QR code a login page shows: the one it showed before (`keep`) while that is still
 * waiting, else a new one for this interaction.
 */
export function qrCodeView(tools: QrCodeSource) {
  return async function view(ctx: Context, details: Details, keep?: string) {
    const still = keep ? await tools.qrLogins.status(details.uid, keep).catch(unlessStoreFault(() => 'expired' as const)) : 'expired';
    const issued = still === 'pending' || still === 'scanned'
      ? { id: keep!, payload: qrPayload(keep!) }
      : await tools.qrLogins.issue({ interactionUid: details.uid, clientId: String(details.params.client_id), clientName: await tools.clientName(details) }, requestMeta(ctx));
    return {
      id: issued.id,
      image: await QRCode.toDataURL(issued.payload, { errorCorrectionLevel: 'M', margin: 2, width: 240 }),
      minutes: Math.round(QR_TTL_SECONDS / 60),
      statusUrl: `/interaction/${details.uid}/qr/${issued.id}/status`,
      // The same one-time payload the picture shows, handed to the app on this phone instead of scanned.
      appLink: tools.appOpenUrl ? appLink(tools.appOpenUrl, issued.payload) : undefined,
    };
  };
}

/**
 * PC login by QR code, the browser's side: the login page's QR tab shows a one-time code
 * bound to this interaction (a PNG data: URL, which the CSP allows), a script polls its
 * status, and a form (sent by the script once the app confirms, or by hand) completes the
 * login with amr `qr`.
 */
export function mountQrLogin(router: Router, form: Middleware, tools: QrLoginPageTools): void {
  const view = qrCodeView(tools);

  router.get('/:uid/qr', async (ctx) => {
    const details = await tools.load(ctx, 'login');
    await tools.renderLogin(ctx, details, { tab: 'qr', qr: await view(ctx, details) });
  });

  /** Polled by views/static/qr-login.js; answers only the browser holding this interaction. */
  router.get('/:uid/qr/:id/status', async (ctx) => {
    const details = await tools.load(ctx, 'login');
    const params = parseInput(statusParams, ctx.params);
    ctx.body = { status: await tools.qrLogins.status(details.uid, params.id) };
  });

  router.post('/:uid/login/qr', form, async (ctx) => {
    const details = await tools.load(ctx, 'login');
    const input = parseInput(completeForm, ctx.request.body);
    tools.csrf.verify(details.uid, input.csrf);
    const page = async (error?: PageError, status?: number) => tools.renderLogin(ctx, details, { tab: 'qr', error, qr: await view(ctx, details, input.qr) }, status);
    await tools.onPage(ctx, page, async () => {
      const confirmed = await tools.qrLogins.complete(details.uid, input.qr);
      await tools.complete(ctx, details, {
        accountId: confirmed.accountId,
        method: 'qr',
        assuranceLevel: confirmed.assuranceLevel,
        needsTotp: false,
        mustChangePassword: false,
        amr: ['qr'],
        totpDone: false,
      });
    });
  });
}
