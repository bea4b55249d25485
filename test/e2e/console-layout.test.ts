import test from 'ava';
import type { Locator, Page } from 'playwright-core';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff, staffSignIn } from '../helpers/staff.js';
import { consoleSignIn } from '../helpers/staff-browser.js';

/**
 * The console where staff work all day: a desktop layout with real tables at 1366×768, still
 * usable on a tablet (768×1024) without sideways scrolling, and axe-clean (WCAG 2.2 A/AA).
 * A table scrolls inside its own box rather than the page's, so "no sideways scroll" is
 * asked of the tables' boxes and of what a row holds too, or it could never fail.
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

const SIZES = [{ name: 'desktop', width: 1366, height: 768 }, { name: 'tablet', width: 768, height: 1024 }] as const;

const pageScrollsSideways = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');

/** Content wider than the element's own box, which it would clip or scroll to. */
const overflowOf = (element: Locator) => element.evaluate((el) => el.scrollWidth - el.clientWidth);

/** The right edge of an element on the screen, in CSS pixels. */
async function rightEdge(element: Locator): Promise<number> {
  const box = await element.boundingBox();
  if (!box) throw new Error('not on the screen');
  return box.x + box.width;
}

test('staff and approvals on a desktop and a tablet: neither the page nor a table hides anything sideways, the first row\'s columns and acts are in sight, axe-clean', async (t) => {
  const admin = await createStaff(server.deps, 'layout-staff-admin', ['admin']);
  // Another admin files the requests the first one sees: long names and long reasons, as real ones are.
  const maker = await staffSignIn(server, await createStaff(server.deps, 'layout-maker', ['admin']));
  for (const n of [1, 2, 3]) {
    const created = await maker.api('POST', '/staff', { username: `agent.layout.window.${n}`, display_name: '市民服务中心第一窗口受理组'.repeat(3), roles: ['agent'] });
    const id = created.body.id as string;
    t.is((await maker.api('POST', `/staff/${id}/disable`, { reason: '调离窗口岗位参加业务培训' })).status, 200);
    t.is((await maker.api('POST', `/staff/${id}/enable-requests`, { reason: '已完成业务培训并经考核合格，申请调回窗口岗位。'.repeat(8) })).status, 201);
  }
  const browser = await openBrowser({ viewport: SIZES[0] });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await consoleSignIn(page, server.url, admin.username, admin.password, admin.totpSecret);

  for (const size of SIZES) {
    await page.setViewportSize(size);
    const at = (what: string) => `${size.name} (${size.width}px): ${what}`;

    await page.goto(`${server.url}/admin/staff`);
    const box = page.locator('.table').first();
    t.true(await overflowOf(box) <= 0, at('the staff table fits its box, with no column scrolled out of sight'));
    // The first member one may act on, acts opened: each column and each act's button in sight.
    const row = page.locator('tbody tr').filter({ has: page.locator('summary') }).first();
    await row.locator('summary').click();
    const inSight = Math.min(size.width, await rightEdge(box));
    const parts = [
      ...(await row.locator('td').all()).map((cell, i) => [`column ${i + 1}`, cell] as const),
      ...await Promise.all((await row.getByRole('button').all()).map(async (button) => [`button ${await button.innerText()}`, button] as const)),
      ['the reason', row.getByRole('textbox')] as const,
    ];
    for (const [name, part] of parts) t.true(await rightEdge(part) <= inSight + 0.5, at(`${name} of the first row is in sight`));
    t.false(await pageScrollsSideways(page), at('/admin/staff scrolls sideways'));
    t.deepEqual(await axeViolations(page), [], at('/admin/staff'));

    await page.goto(`${server.url}/admin/approvals`);
    const request = page.locator('[data-approval-status="pending"]').first();
    t.true(await overflowOf(request) <= 0, at('a request\'s long reason wraps within it'));
    for (const part of [request.getByLabel('审批意见'), request.getByRole('button', { name: '批准' }), request.getByRole('button', { name: '驳回' })]) {
      t.true(await rightEdge(part) <= size.width, at('the decision is in sight'));
    }
    t.false(await pageScrollsSideways(page), at('/admin/approvals scrolls sideways'));
    t.deepEqual(await axeViolations(page), [], at('/admin/approvals'));
  }
});
