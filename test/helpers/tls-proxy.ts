import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsProxy {
  /** `https://localhost:PORT`: an issuer served over TLS, as production is behind its proxy. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A self-signed P-256 certificate for localhost, made by the machine's openssl for one test run. */
function selfSignedLocalhost(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'civic-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A TLS-terminating proxy in front of a test server on `targetPort`, as the documented
 * production set-up (TRUST_PROXY=true, one hop): it adds X-Forwarded-Proto https and
 * X-Forwarded-For, and passes everything else through unchanged.
 */
export async function startTlsProxy(targetPort: number, port = 0): Promise<TlsProxy> {
  const server = createServer(selfSignedLocalhost(), (incoming, outgoing) => {
    const forwarded = request({
      host: '127.0.0.1', port: targetPort, method: incoming.method, path: incoming.url,
      headers: { ...incoming.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': incoming.socket.remoteAddress ?? '127.0.0.1' },
    }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `https://localhost:${bound}`,
    port: bound,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
