import type { TestServer } from './server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;
export interface Answer { status: number; body: Json }

/** Calls one JSON API of a test server: `call('POST', '/flow/identity', {...}, headers?)`. */
export function jsonApi(target: TestServer, prefix: string) {
  return async (method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(`${target.url}${prefix}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() as Json };
  };
}
