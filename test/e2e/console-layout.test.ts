import test from 'ava';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff } from '../helpers/staff.js';
import { consoleSignIn } from '../helpers/staff-browser.js';

/**
 * The console where staff work all day: a desktop layout with real tables at 1366×768, still
 * usable on a tablet (768×1024) without sideways scrolling, and axe-clean (WCAG 2.2 A/AA).
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test('desktop: the console uses the width, its tables span it, and every page passes axe; a tablet needs no sideways scroll', async (t) => {
  const admin = await createStaff(server.deps, 'layout-admin', ['admin']);
  const auditor = await createStaff(server.deps, 'layout-auditor', ['auditor']);
  const browser = await openBrowser({ viewport: { width: 1366, height: 768 } });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await consoleSignIn(page, server.url, admin.username, admin.password, admin.totpSecret);
  for (const path of ['/admin', '/admin/staff', '/admin/clients']) {
    await page.goto(`${server.url}${path}`);
    t.true(await page.locator('main').evaluate((el) => el.getBoundingClientRect().width) > 1000, `${path} is a desktop page, not a phone column`);
    t.deepEqual(await axeViolations(page), [], path);
  }
  const table = await page.locator('table').first().evaluate((el) => ({ table: el.getBoundingClientRect().width, card: el.closest('.card')!.getBoundingClientRect().width }));
  t.true(table.table > table.card * 0.9, 'the staff table spans its card');

  await browser.context.clearCookies();
  await consoleSignIn(page, server.url, auditor.username, auditor.password, auditor.totpSecret);
  await page.goto(`${server.url}/admin/audit`);
  t.deepEqual(await axeViolations(page), [], '/admin/audit');
  await page.setViewportSize({ width: 768, height: 1024 });
  // The auditor's pages, the widest tables of all (the audit viewer).
  for (const path of ['/admin', '/admin/audit']) {
    await page.goto(`${server.url}${path}`);
    t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), `${path} scrolls sideways on a tablet`);
  }
});
