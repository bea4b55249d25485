import type { Context } from 'koa';
import { nextStep, type PendingLogin, type PendingLogins } from '../../flows/pending-login.js';

/**
 * A first factor that passed outside the login form (enterprise-account login, federation)
 * finishes at once when nothing remains; otherwise its second factor or forced password
 * change is handed to the login pages' own steps (routes.ts), which every way in shares.
 */
export async function continueLogin(ctx: Context, pendingLogins: PendingLogins, uid: string, pending: PendingLogin, finishNow: () => Promise<void>): Promise<void> {
  if (nextStep(pending) === 'done') {
    await finishNow();
    return;
  }
  await pendingLogins.save(uid, pending);
  ctx.status = 303;
  ctx.redirect(`/interaction/${uid}`);
}
