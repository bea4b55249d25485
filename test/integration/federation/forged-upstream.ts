import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';

/** How the next answer of the forged upstream departs from a correct one. */
export interface Tampering {
  claims?: (claims: JWTPayload) => JWTPayload;
  /** Sign with a key the upstream never published. */
  foreignKey?: boolean;
  /** Answer the authorization request with an error instead of a code. */
  deny?: boolean;
}

export interface ForgedUpstream {
  url: string;
  tamper(tampering: Tampering): void;
  close(): Promise<void>;
}

const SUBJECT = 'forged-upstream-subject-1';

/**
 * A stand-in upstream OpenID provider whose ID tokens a test can spoil one way at a time
 * (audience, issuer, nonce, signature, expiry, acr, claims). Left alone it answers
 * correctly, so each spoiled answer is refused for its own fault and no other.
 */
export async function startForgedUpstream(clientId: string, person: { idNumber: string; name: string }): Promise<ForgedUpstream> {
  const published = await generateKeyPair('ES256');
  const unpublished = await generateKeyPair('ES256');
  const jwk = { ...await exportJWK(published.publicKey), kid: 'published', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { nonce: string }>();
  let tampering: Tampering = {};
  let url = '';

  async function body(request: IncomingMessage): Promise<URLSearchParams> {
    let raw = '';
    for await (const chunk of request) raw += String(chunk);
    return new URLSearchParams(raw);
  }

  function json(response: ServerResponse, status: number, value: unknown) {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(value));
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const target = new URL(request.url ?? '/', url);
    if (target.pathname === '/.well-known/openid-configuration') {
      return json(response, 200, {
        issuer: url,
        authorization_endpoint: `${url}/auth`,
        token_endpoint: `${url}/token`,
        jwks_uri: `${url}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
    if (target.pathname === '/jwks') return json(response, 200, { keys: [jwk] });
    if (target.pathname === '/auth') {
      const back = new URL(target.searchParams.get('redirect_uri')!);
      back.searchParams.set('state', target.searchParams.get('state') ?? '');
      back.searchParams.set('iss', url);
      if (tampering.deny) {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = `code-${codes.size + 1}-${Math.random().toString(36).slice(2)}`;
        codes.set(code, { nonce: target.searchParams.get('nonce') ?? '' });
        back.searchParams.set('code', code);
      }
      response.writeHead(303, { location: back.href });
      return response.end();
    }
    if (target.pathname === '/token' && request.method === 'POST') {
      const params = await body(request);
      const grant = codes.get(params.get('code') ?? '');
      codes.delete(params.get('code') ?? '');
      if (!grant) return json(response, 400, { error: 'invalid_grant' });
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        iss: url, aud: clientId, sub: SUBJECT, nonce: grant.nonce, iat: now, exp: now + 300, auth_time: now,
        acr: 'urn:civic-idp:loa:3', amr: ['pwd'], name: person.name, id_number: person.idNumber,
      };
      const signed = await new SignJWT(tampering.claims ? tampering.claims(claims) : claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'published', typ: 'JWT' })
        .sign(tampering.foreignKey ? unpublished.privateKey : published.privateKey);
      return json(response, 200, { access_token: `at-${Math.random().toString(36).slice(2)}`, token_type: 'Bearer', expires_in: 300, id_token: signed });
    }
    response.writeHead(404);
    response.end();
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      response.writeHead(500);
      response.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tamper(next) {
      tampering = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
