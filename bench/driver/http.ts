import http from 'node:http';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A form body (sent as application/x-www-form-urlencoded) or a raw string. */
  form?: Record<string, string>;
}

/**
 * node:http with one keep-alive agent: far cheaper per request than fetch, which matters
 * when the driver shares two cores with the server it measures.
 *
 * An https base is the issuer of a server run as in production behind a TLS-terminating
 * proxy: the driver plays that proxy, speaking plain HTTP to the same host and port and
 * saying `X-Forwarded-Proto: https`, so TLS costs (which the proxy would bear) stay out of
 * the server's figures.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  readonly origin: URL;
  private readonly forwarded: Record<string, string>;

  constructor(base: string, sockets: number) {
    this.origin = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, keepAliveMsecs: 10_000 });
    this.forwarded = this.origin.protocol === 'https:' ? { 'x-forwarded-proto': 'https' } : {};
  }

  request(path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    const headers: Record<string, string> = { ...this.forwarded, ...options.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent,
        host: this.origin.hostname,
        port: this.origin.port,
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        path,
        headers,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${path}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * One person's browser: a cookie jar (names only; the provider scopes its cookies by path,
 * which a real browser honours and which changes nothing here) and manual redirects that
 * stop at the first one leaving the provider, which is the client's redirect URI.
 */
export class Browser {
  private readonly jar = new Map<string, string>();

  constructor(private readonly client: HttpClient) {}

  private remember(response: HttpResponse): void {
    for (const line of response.headers['set-cookie'] ?? []) {
      const end = line.indexOf(';');
      const pair = end === -1 ? line : line.slice(0, end);
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers = { ...options.headers };
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.client.request(path, { ...options, headers });
    this.remember(response);
    return response;
  }

  /** Follows redirects inside the provider; returns the last page, or the URL that left it. */
  async follow(response: HttpResponse): Promise<{ response: HttpResponse; url: string }> {
    let current = response;
    let url = '';
    for (let hops = 0; hops < 10; hops += 1) {
      const location = current.headers.location;
      if (current.status < 300 || current.status >= 400 || !location) break;
      const next = new URL(location, this.client.origin);
      url = next.href;
      if (next.origin !== this.client.origin.origin) return { response: current, url };
      current = await this.request(next.pathname + next.search);
    }
    return { response: current, url };
  }

  async get(path: string) {
    return this.follow(await this.request(path));
  }

  async post(path: string, form: Record<string, string>) {
    return this.follow(await this.request(path, { form }));
  }
}

export function hiddenInput(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no hidden input "${name}" in the page (status page: ${/data-error-code="([^"]+)"/.exec(html)?.[1] ?? 'none'})`);
  return match[1]!;
}
