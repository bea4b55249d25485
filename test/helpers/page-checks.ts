import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { axeViolations } from './axe.js';

/**
 * What every citizen page state must pass, whichever test reaches it. Browser-side code is
 * passed as strings: the project compiles without the DOM library.
 */

/** WCAG 2.2 2.5.8 asks 24 px; the README (and the MIIT ageing-friendly guidance) 44. */
export const TARGET_PX = 44;

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

/** axe-core and the layout rules above, each failure naming the page state. */
export async function checkPage(t: ExecutionContext, page: Page, label: string): Promise<void> {
  const violations = await axeViolations(page);
  t.deepEqual(violations, [], `${label}: ${JSON.stringify(violations, null, 1)}`);
  t.deepEqual(await smallStandAloneLinks(page), [], `${label}: links alone in their paragraph lower than ${TARGET_PX} px`);
  t.deepEqual(await controlsOffTheFont(page), [], `${label}: form controls not in the page's font`);
}
