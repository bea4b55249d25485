import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { axeViolations } from './axe.js';

/**
 * What every citizen page state must pass, whichever test reaches it. Browser-side code is
 * passed as strings: the project compiles without the DOM library.
 */

/** The phone and the desktop every citizen page is checked on. */
export const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 768 } } as const;

/** WCAG 2.2 2.5.8 asks 24 px; the README (and the MIIT ageing-friendly guidance) 44. */
export const TARGET_PX = 44;

/**
 * Names and abbreviations that Chinese government pages themselves write in Latin letters,
 * spelt as they are written there: "QR" (二维码 labels), "App" (政务 App), never "qr" or "app".
 */
export const ALLOWED_LATIN = new Set(['App', 'QR', 'TOTP', 'WeChat', 'ICP', 'JSON', 'English']);

/**
 * Latin words in a zh-CN page where Chinese should stand: internal codes (`qr`, `pwd`,
 * `sms`, `revoked`, `confirm`, `social.insurance`, `account-centre`, `client_id`) and
 * English left untranslated.
 *
 * The rule: the page's text and its text alternatives (alt, aria-label, title,
 * placeholder), <code> included, are cut into tokens of ASCII letters and digits, joined
 * by ".", "_" or "-" as codes are. A token with two or more letters and no digit must be
 * one of ALLOWED_LATIN, in that spelling: an internal code is lower case or joined, a
 * product word is not. A token with a digit or a mask's "*" is data (a masked credit code
 * such as 9135********YEKG, a request id, 2027-03-31), a lone letter is part of one (the X
 * of an ID number). Left out: the language
 * link and anything marked lang="en", and values a person copies character by character,
 * which are random letters by design (the authenticator secret, recovery codes).
 */
export async function untranslated(page: Page): Promise<string[]> {
  const text = await page.evaluate<string>(`(() => {
    const skip = 'script, style, [lang="en"], [hreflang], [data-totp-secret], [data-recovery-codes]';
    const parts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.closest(skip)) parts.push(node.nodeValue);
    }
    for (const el of document.body.querySelectorAll('[alt], [aria-label], [title], [placeholder]')) {
      if (el.closest(skip)) continue;
      for (const name of ['alt', 'aria-label', 'title', 'placeholder']) parts.push(el.getAttribute(name) ?? '');
    }
    return parts.join('\\n');
  })()`);
  const tokens = text.match(/[A-Za-z0-9*]+(?:[._-][A-Za-z0-9*]+)*/g) ?? [];
  return [...new Set(tokens.filter((token) => !/[0-9*]/.test(token) && (token.match(/[A-Za-z]/g) ?? []).length >= 2 && !ALLOWED_LATIN.has(token)))];
}

/** Whether the page is wider than the window (a reader would have to scroll sideways). */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
}

/** The browser's default text size, as a reader sets it in the browser's settings (16 px out of the box). */
export async function setDefaultFontSize(page: Page, px: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.enable');
  await cdp.send('Page.setFontSizes', { fontSizes: { standard: px } });
}

/**
 * Links standing alone in a paragraph of the page (返回, 登录, the next step) lower than a
 * finger: their text and height. Links inside a sentence are exempt (WCAG 2.5.8 "inline").
 */
export function smallStandAloneLinks(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('main p > a')]
    .filter((a) => a.parentElement.textContent.trim() === a.textContent.trim() && a.getClientRects().length > 0)
    .map((a) => [a.textContent.trim(), a.getBoundingClientRect().height])
    .filter(([, height]) => height < ${TARGET_PX})
    .map(([text, height]) => text + ': ' + Math.round(height) + 'px')`);
}

/**
 * Form controls in a font of their own (the browser's small control font) instead of the
 * page's: a reader's text size and 关怀模式 would not reach them.
 */
export function controlsOffTheFont(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const family = getComputedStyle(document.body).fontFamily;
    return [...document.querySelectorAll('main input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"]), main select, main button, main textarea')]
      .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).fontFamily !== family)
      .map((el) => el.outerHTML.slice(0, 80));
  })()`);
}

/**
 * Everything above on the page as it stands, each failure naming the page state: axe-core
 * (WCAG 2.2 A and AA), no untranslated code in a zh-CN page, stand-alone links and form
 * controls as README promises, and nothing wider than the window.
 */
export async function checkPage(t: ExecutionContext, page: Page, label: string): Promise<void> {
  const violations = await axeViolations(page);
  t.deepEqual(violations, [], `${label}: ${JSON.stringify(violations, null, 1)}`);
  if (await page.locator('html').getAttribute('lang') === 'zh-CN') t.deepEqual(await untranslated(page), [], `${label}: Latin text in a zh-CN page`);
  t.deepEqual(await smallStandAloneLinks(page), [], `${label}: links alone in their paragraph lower than ${TARGET_PX} px`);
  t.deepEqual(await controlsOffTheFont(page), [], `${label}: form controls not in the page's font`);
  t.false(await scrollsSideways(page), `${label}: scrolls sideways`);
}

/** checkPage on the phone and on the desktop, leaving the page at the phone's size. */
export async function checkOnBoth(t: ExecutionContext, page: Page, label: string): Promise<void> {
  for (const [device, viewport] of Object.entries(VIEWPORTS).reverse()) {
    await page.setViewportSize(viewport);
    await checkPage(t, page, `${label} (${device})`);
  }
}

/**
 * Check boxes and radio buttons matching `selector` that are not laid out as a finger
 * needs them: a box of its own size (not stretched across the card), its label beside it
 * on its line (not on the next), and the whole row at least TARGET_PX high. Each problem
 * names the control by name=value.
 */
export function choicesApartFromLabels(page: Page, selector: string): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll(${JSON.stringify(selector)})]
    .filter((box) => box.getClientRects().length > 0)
    .flatMap((box) => {
      const name = box.name + '=' + box.value;
      const label = box.labels[0];
      if (!label) return [name + ': no label'];
      const b = box.getBoundingClientRect();
      const wrapping = label.contains(box);
      let text = label.getBoundingClientRect();
      if (wrapping) {
        const range = document.createRange();
        range.setStartAfter(box);
        range.setEnd(label, label.childNodes.length);
        text = range.getBoundingClientRect();
      }
      const row = (wrapping ? label : box.parentElement).getBoundingClientRect();
      const problems = [];
      if (b.width < 20 || b.width > 32) problems.push(name + ': the box is ' + Math.round(b.width) + ' px wide');
      if (text.left < b.right - 1 || text.left - b.right > 24) problems.push(name + ': the label starts ' + Math.round(text.left - b.right) + ' px right of the box');
      if (!(b.top < text.bottom && b.bottom > text.top)) problems.push(name + ': the label is not on the line of its box');
      if (row.height < ${TARGET_PX}) problems.push(name + ': the row is ' + Math.round(row.height) + ' px high');
      return problems;
    })`);
}
