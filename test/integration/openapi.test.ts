import test from 'ava';
import { startServer } from '../helpers/server.js';

/** Every route the API mounts is described, and every described route answers (not 404). */
test('the OpenAPI document describes the JSON API and its routes exist', async (t) => {
  const server = await startServer();
  try {
    const response = await fetch(`${server.url}/api/v1/openapi.json`);
    t.is(response.status, 200);
    const document = await response.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    t.is(document.openapi, '3.1.0');
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ path, method })));
    t.true(operations.length >= 30);
    t.truthy(document.paths['/api/v1/registration/{flowId}/identity']?.post?.requestBody);
    for (const { path, method } of operations) {
      const url = `${server.url}${path.replace(/\{[^}]+\}/g, 'AAAAAAAAAAAAAAAAAAAAAAAA')}`;
      const answer = await fetch(url, { method: method.toUpperCase(), headers: { 'content-type': 'application/json', accept: 'application/json' }, body: ['get', 'delete'].includes(method) ? undefined : '{}' });
      const body = await answer.json() as { error?: string };
      t.not(body.error, 'not_found', `${method.toUpperCase()} ${path} is described but not routed`);
    }
  } finally {
    await server.close();
  }
});
