import { createHash, randomBytes } from 'node:crypto';

/**
 * A minimal browser for driving the real HTTP surface: a cookie jar, manual redirects, and
 * form posts. Enough for authorization-code flows without a real browser.
 */
export class HttpBrowser {
  private readonly jar = new Map<string, string>();

  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  cookies(): Map<string, string> {
    return new Map(this.jar);
  }

  /** Puts a cookie in the jar, as a page of the same site (or an attacker who could write there) would. */
  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.base);
    const headers = new Headers(init.headers);
    if (target.origin === new URL(this.base).origin && this.jar.size > 0) headers.set('cookie', this.cookieHeader());
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.remember(response);
    return response;
  }

  /** Follows redirects within the provider; stops at the first one that leaves it (the client's redirect URI). */
  async follow(response: Response): Promise<{ response: Response; url: string; body: string }> {
    let current = response;
    let url = '';
    for (let hops = 0; hops < 10; hops += 1) {
      const location = current.headers.get('location');
      if (current.status < 300 || current.status >= 400 || !location) break;
      url = new URL(location, this.base).href;
      if (!url.startsWith(this.base)) return { response: current, url, body: '' };
      current = await this.request(url);
    }
    return { response: current, url: url || current.url, body: await current.text() };
  }

  async get(url: string) {
    return this.follow(await this.request(url));
  }

  async post(url: string, form: Record<string, string>) {
    return this.follow(await this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    }));
  }
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The value of a hidden input in a page. */
export function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no hidden input "${name}" in page`);
  return match[1]!;
}

export function errorCode(html: string): string | undefined {
  return /data-error-code="([^"]+)"/.exec(html)?.[1];
}

/** The opening tag of the input or select with this id in a page. */
export function control(html: string, id: string): string {
  return new RegExp(`<(?:input|select)\\b[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0] ?? '';
}

/** The message a refused form shows beside one of its fields (views/field-error.eta), if any. */
export function fieldError(html: string, field: string): string | undefined {
  return new RegExp(`<p class="field-error" id="${field}-error" data-field-error="${field}">([^<]*)</p>`).exec(html)?.[1];
}

/** The whole form (from <form to </form>) of a page that contains `marker`, or '' when none does. */
export function formWith(html: string, marker: string): string {
  return [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]).find((form) => form.includes(marker)) ?? '';
}

/**
 * A form that asks for a code and takes it (views/code-step.eta) as a page shows it: where
 * it posts, where its 获取验证码 button posts, whether that button is the one Enter presses
 * (the form's first submit button), and the countdown it starts with.
 */
export function codeForm(html: string) {
  const form = formWith(html, 'data-send-code');
  const send = /<button\b[^>]*data-send-code[^>]*>/.exec(form)?.[0] ?? '';
  const unescape = (value: string | undefined) => value?.replaceAll('&amp;', '&');
  return {
    action: unescape(/^<form\b[^>]*\baction="([^"]*)"/.exec(form)?.[1]),
    sendAction: unescape(/formaction="([^"]*)"/.exec(send)?.[1]),
    wait: /^<form\b[^>]*\bdata-wait="(\d+)"/.exec(form)?.[1],
    takesCode: /name="code"/.test(form),
    enterSends: send !== '' && /<button\b[^>]*>/.exec(form)?.[0] === send,
    sendChecksFields: send !== '' && !/formnovalidate/.test(send),
  };
}
