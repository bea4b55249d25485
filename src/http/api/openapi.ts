import Router from '@koa/router';
import { z } from 'zod';

/**
 * The OpenAPI 3.1 description of /api/v1, built from the same zod schemas that validate
 * requests at the edge, so the document cannot drift from what the server accepts.
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Needs `Authorization: Bearer <access token>`. */
  bearer?: boolean;
  /** Needs the staff console session cookie, and on writes its CSRF token in X-CSRF-Token (http/admin/api.ts). */
  staffSession?: boolean;
  /** A short description of the success response. */
  returns: string;
  status?: number;
}

const errorSchema = {
  type: 'object',
  required: ['error', 'message', 'message_zh', 'message_en', 'request_id'],
  properties: {
    error: { type: 'string', description: 'stable machine-readable code' },
    message: { type: 'string', description: 'in the language of the request' },
    message_zh: { type: 'string' },
    message_en: { type: 'string' },
    reason: { type: 'string', description: 'a finer code, for example why a password was refused' },
    request_id: { type: 'string' },
  },
};

export function openApiDocument(issuer: string, operations: ApiOperation[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const openApiPath = op.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [...op.path.matchAll(/:(\w+)/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[openApiPath] ??= {};
    paths[openApiPath][op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.bearer ? { security: [{ bearer: [] }] } : {}),
      ...(op.staffSession ? { security: [{ staffSession: [], ...(op.method === 'get' ? {} : { staffCsrf: [] }) }] } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
      responses: {
        [String(op.status ?? 200)]: { description: op.returns },
        default: { description: 'an error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'civic-idp API',
      version: '1',
      description: 'Self-service flows and the account centre of the unified identity platform (统一身份认证平台), for the app and the mini-program. Errors carry a stable code and messages in Chinese and English.',
    },
    servers: [{ url: issuer }],
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an opaque access token this provider issued with the `account` scope (qr_login for /api/v1/qr-login) to a client registered for it: the app, the mini-program or the account centre; a department\'s token is refused (401 if invalid, 403 account_client_not_allowed or account_scope_missing)' },
        staffSession: { type: 'apiKey', in: 'cookie', name: 'civic_staff', description: 'the staff console session, from POST /api/v1/admin/login then /api/v1/admin/login/totp' },
        staffCsrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'the console session\'s CSRF token, from GET /api/v1/admin/session; required on every write' },
      },
    },
  };
}

export function openApiRoute(issuer: string, operations: () => ApiOperation[]): Router {
  let cached: string | undefined;
  return new Router().get('/api/v1/openapi.json', (ctx) => {
    cached ??= JSON.stringify(openApiDocument(issuer, operations()));
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = cached;
  });
}
