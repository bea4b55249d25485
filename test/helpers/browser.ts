import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (DESIGN.md section 7); CHROMIUM_PATH may point elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface BrowserOptions {
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
  isMobile?: boolean;
  /** For a test issuer behind a TLS proxy with a self-signed certificate. */
  ignoreHTTPSErrors?: boolean;
  /** false: the page as a browser without JavaScript gets it (every citizen page must work so). */
  javaScriptEnabled?: boolean;
}

/** A 390×844 phone with a touch screen: the citizen pages are laid out for it first. */
export const PHONE: BrowserOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true };

let shared: Promise<Browser> | undefined;
let openContexts = 0;

/**
 * One headless Chromium per test process, started on first use: starting a browser costs
 * seconds of CPU, a context milliseconds. A missing or broken browser is a failure with
 * instructions, never a silent skip.
 */
function sharedBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    return Promise.reject(new Error(
      `Chromium was not found at ${CHROMIUM_PATH}. The end-to-end browser tests need Debian's Chromium: `
      + 'run `apt-get install -y chromium` (as root), or set CHROMIUM_PATH to a Chromium binary.',
    ));
  }
  shared ??= chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }).catch((error: Error) => {
    shared = undefined;
    throw new Error(
      `Chromium at ${CHROMIUM_PATH} could not be started (${error.message.split('\n')[0]}). `
      + 'Reinstall it with `apt-get install -y chromium`, or set CHROMIUM_PATH to a working Chromium binary.',
      { cause: error },
    );
  });
  return shared;
}

/**
 * A fresh browser context (its own cookies, storage and cache, like a new profile) in the
 * process's Chromium: one per test, so cookies (the interaction cookies, the language
 * choice) never leak between tests running in parallel.
 */
export async function openBrowser(options: BrowserOptions = {}): Promise<TestBrowser> {
  openContexts += 1;
  let browser: Browser;
  try {
    browser = await sharedBrowser();
  } catch (error) {
    openContexts -= 1;
    throw error;
  }
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    ...(options.deviceScaleFactor ? { deviceScaleFactor: options.deviceScaleFactor } : {}),
    ...(options.isMobile ? { isMobile: true, hasTouch: true } : {}),
    ...(options.ignoreHTTPSErrors ? { ignoreHTTPSErrors: true } : {}),
    ...(options.javaScriptEnabled === false ? { javaScriptEnabled: false } : {}),
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      // The last context closes the browser, so the test process can exit when its tests are done.
      openContexts -= 1;
      if (openContexts === 0 && shared) {
        const closing = shared;
        shared = undefined;
        await (await closing).close().catch(() => {});
      }
    },
  };
}

/** The page of a fresh browser context, which `teardown` (a test's t.teardown) closes when the test ends. */
export async function openPage(options: BrowserOptions, teardown: (close: () => Promise<void>) => void): Promise<Page> {
  const browser = await openBrowser(options);
  teardown(() => browser.close());
  return browser.context.pages()[0] ?? await browser.context.newPage();
}
