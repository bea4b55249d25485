import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/app.js';
import { buildDependencies, type Dependencies } from '../../src/deps.js';
import { createLogger } from '../../src/log.js';
import { isolatedEnv, type IsolatedEnv } from './env.js';

export interface TestServer {
  url: string;
  /** With ADMIN_PORT in the environment: the staff listener's URL. */
  adminUrl?: string;
  deps: Dependencies;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe: Server = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface StartOptions {
  /** Where log lines go (default: nowhere); with LOG_LEVEL in extraEnv to choose how much. */
  logSink?: { write(line: string): void };
  /** Stores to reuse (for restart tests); the caller then cleans them up. Default: fresh ones. */
  stores?: IsolatedEnv;
  port?: number;
}

/** A listening civic-idp on its own stores, with ISSUER equal to the URL it answers on. */
export async function startServer(extraEnv: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const ownsStores = !options.stores;
  // Stores of its own die with the server: an embedded database needs no disk.
  const stores = options.stores ?? isolatedEnv({ embeddedDatabase: 'memory' });
  const port = options.port ?? await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = stores.config({ PORT: String(port), ISSUER: url, ...extraEnv });
  const deps = await buildDependencies(config, options.logSink ? createLogger(config.logLevel, options.logSink) : createLogger('silent'));
  const app = await buildApp(deps);
  // The public port, and with ADMIN_PORT the staff listener, as src/main.ts does.
  const servers = [app.listen(port, '127.0.0.1'), ...(config.adminPort !== undefined ? [app.listen(config.adminPort, '127.0.0.1')] : [])];
  await Promise.all(servers.map((server) => once(server, 'listening')));
  return {
    url,
    ...(config.adminPort !== undefined ? { adminUrl: `http://127.0.0.1:${config.adminPort}` } : {}),
    deps,
    async close() {
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
      await deps.close();
      if (ownsStores) await stores.cleanup();
    },
  };
}
