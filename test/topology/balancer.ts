import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

// Hop-by-hop headers belong to the client's connection, not to the one to the instance.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

interface Upstream {
  port: number;
  up: boolean;
}

/**
 * A small HTTP load balancer in front of the instances, as a production one behaves:
 * round robin over the instances it believes up; an instance that refuses the connection
 * is marked down and the request goes to the next one (nothing reached the refusing one,
 * so this is safe for a POST too); any other failure once the request was sent (the
 * instance died with it) is a 502, since it may have been acted on. A down instance is
 * asked for /healthz every 500 ms and taken back when it answers.
 */
export class Balancer {
  private readonly upstreams: Upstream[];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly server: http.Server;
  private next = 0;
  private readonly probe: NodeJS.Timeout;

  private constructor(ports: number[]) {
    this.upstreams = ports.map((port) => ({ port, up: true }));
    this.server = http.createServer((request, response) => void this.forward(request, response));
    this.probe = setInterval(() => void this.probeDown(), 500);
    this.probe.unref();
  }

  static async start(ports: number[]): Promise<Balancer> {
    const balancer = new Balancer(ports);
    balancer.server.listen(0, '127.0.0.1');
    await once(balancer.server, 'listening');
    return balancer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    this.agent.destroy();
  }

  private async forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const tried = new Set<Upstream>();
    for (;;) {
      const upstream = this.pick(tried);
      if (!upstream) {
        response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('no instance available');
        return;
      }
      tried.add(upstream);
      const outcome = await this.send(upstream, request, body, response);
      if (outcome === 'done') return;
      if (outcome === 'refused') {
        upstream.up = false;
        continue;
      }
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end('instance failed');
      else response.destroy();
      return;
    }
  }

  private pick(tried: Set<Upstream>): Upstream | undefined {
    for (let i = 0; i < this.upstreams.length; i += 1) {
      const candidate = this.upstreams[(this.next + i) % this.upstreams.length]!;
      if (candidate.up && !tried.has(candidate)) {
        this.next = (this.next + i + 1) % this.upstreams.length;
        return candidate;
      }
    }
    return undefined;
  }

  private send(upstream: Upstream, request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): Promise<'done' | 'refused' | 'failed'> {
    return new Promise((resolve) => {
      const outgoing = http.request({
        agent: this.agent,
        host: '127.0.0.1',
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...forwardable(request.headers), 'content-length': String(body.length) },
        timeout: 30_000,
      }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
        answer.pipe(response);
        answer.on('end', () => resolve('done'));
        // The instance died in the middle of its answer.
        answer.on('close', () => resolve(answer.complete ? 'done' : 'failed'));
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('upstream timeout')));
      outgoing.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'failed'));
      outgoing.end(body);
    });
  }

  private async probeDown(): Promise<void> {
    await Promise.all(this.upstreams.filter((upstream) => !upstream.up).map(async (upstream) => {
      try {
        const answer = await fetch(`http://127.0.0.1:${upstream.port}/healthz`, { signal: AbortSignal.timeout(1_000) });
        await answer.arrayBuffer();
        if (answer.ok) upstream.up = true;
      } catch {
        // still down
      }
    }));
  }
}
