import Router from '@koa/router';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../../errors.js';
import type { BearerRequirement } from '../account/principal.js';
import { isStaffPath } from '../middleware/staff-surface.js';

interface OperationBase {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Needs `Authorization: Bearer <access token>`: the account scope (`true`), or the scope of the requirement given. */
  bearer?: true | BearerRequirement;
  /** Needs the staff console session cookie, and on writes its CSRF token in X-CSRF-Token (http/admin/api.ts). */
  staffSession?: boolean;
  /** A short description of the success answer. */
  returns: string;
  /** The codes this operation refuses with, besides those every operation, a body and its credentials bring (see errorCodesOf). */
  errors?: readonly ErrorCode[];
}

/**
 * What a success looks like: a JSON body with the schema it has (200 unless `status`
 * says 201), no body at all (204), or a body of another media type (the audit CSV).
 */
type Success =
  | { status?: 200 | 201; response: z.ZodType; media?: never }
  | { status: 204; response?: never; media?: never }
  | { status?: 200; media: string; response?: never };

/**
 * One operation of /api/v1, as the OpenAPI document describes it. The request body and
 * the success answer are the zod schemas the route itself uses, next to it, so the
 * document is generated from the same source as the behaviour, and the contract test
 * (test/integration/api-contract.test.ts) holds every real answer to it.
 */
export type ApiOperation = OperationBase & Success;

/** Any operation can fail inside (500), and every one reads a store that may be down (503, with Retry-After). */
const EVERY_OPERATION: readonly ErrorCode[] = ['internal', 'store_unavailable'];
/** A body that is not JSON, too large, encoded other than it says, or not of its schema. */
const WITH_BODY: readonly ErrorCode[] = ['bad_request', 'body_encoding_invalid', 'invalid_input'];
/** An invalid bearer token is one 401 whatever is wrong with it. */
const WITH_BEARER: readonly ErrorCode[] = ['unauthenticated'];
const ACCOUNT_BEARER: readonly ErrorCode[] = ['account_client_not_allowed', 'account_scope_missing'];
/** No console session, a role that may not, credentials still to be replaced (but where they are), and on writes a wrong CSRF token. */
const WITH_STAFF_SESSION: readonly ErrorCode[] = ['unauthenticated', 'forbidden', 'credentials_change_required'];
const STAFF_WRITE: readonly ErrorCode[] = ['csrf'];
/** The console's API, sign-in included, is a page that does not exist off the staff listener (ADMIN_PORT) or outside ADMIN_ALLOWED_NETWORKS. */
const STAFF_SURFACE: readonly ErrorCode[] = ['not_found'];

/** Codes that several operations share, for their `errors`. */
export const FLOW_ERRORS: readonly ErrorCode[] = ['flow_expired', 'flow_step_invalid', 'flow_busy'];
export const SMS_SEND_ERRORS: readonly ErrorCode[] = ['sms_rate_limited', 'sms_unavailable', 'captcha_required', 'captcha_invalid'];
export const SMS_CODE_ERRORS: readonly ErrorCode[] = ['code_invalid', 'code_attempts_exceeded'];
/** A real-name check: limited per flow, ID number and address, a captcha after a few wrong answers, the registry may be down. */
export const REALNAME_CHECK_ERRORS: readonly ErrorCode[] = ['realname_checks_exceeded', 'captcha_required', 'captcha_invalid', 'registry_unavailable'];

/** Every code an operation may answer with, in the order a reader meets them. */
export function errorCodesOf(op: ApiOperation): ErrorCode[] {
  const bearer = op.bearer === true ? ACCOUNT_BEARER : op.bearer ? [op.bearer.clientRefused, op.bearer.scopeMissing] : [];
  return [...new Set<ErrorCode>([
    ...(op.body ? WITH_BODY : []),
    ...(op.bearer ? [...WITH_BEARER, ...bearer] : []),
    ...(op.staffSession ? [...WITH_STAFF_SESSION, ...(op.method === 'get' ? [] : STAFF_WRITE)] : []),
    ...(isStaffPath(op.path) ? STAFF_SURFACE : []),
    ...(op.errors ?? []),
    ...EVERY_OPERATION,
  ])];
}

/** The codes by HTTP status: one documented response per status, its `error` limited to them. */
function errorResponses(op: ApiOperation): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(op)) {
    const status = new AppError(code).status;
    byStatus.set(status, [...byStatus.get(status) ?? [], code]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => [String(status), {
    description: codes.join(', '),
    content: { 'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { enum: codes } } }] } } },
  }]));
}

/**
 * A schema for the document. The pattern zod gives an ISO date-time only restates its
 * `format`, hundreds of characters at each of the document's many times, so it is left out.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
}

function successResponse(op: ApiOperation): Record<string, unknown> {
  if (op.status === 204) return { 204: { description: op.returns } };
  const content = op.media
    ? { [op.media]: { schema: { type: 'string' } } }
    : { 'application/json': { schema: jsonSchema(op.response!, 'output') } };
  return { [String(op.status ?? 200)]: { description: op.returns, content } };
}

const errorSchema = {
  type: 'object',
  required: ['error', 'message', 'message_zh', 'message_en', 'request_id'],
  properties: {
    error: { type: 'string', description: 'stable machine-readable code' },
    message: { type: 'string', description: 'in the language of the request: English when Accept-Language prefers en (or ?lang=en), else Chinese; also in the Content-Language header' },
    message_zh: { type: 'string' },
    message_en: { type: 'string' },
    reason: { type: 'string', description: 'a finer code, for example why a password was refused' },
    request_id: { type: 'string' },
  },
  additionalProperties: false,
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
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
      responses: { ...successResponse(op), ...errorResponses(op) },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'civic-idp API',
      version: '1',
      description: 'Self-service flows and the account centre of the unified identity platform (统一身份认证平台), for the app and the mini-program. Every key of every JSON body, asked or answered, is snake_case. Each operation lists the statuses it answers; an error carries a stable code (limited, per status, to the codes listed) and messages in Chinese and English.',
    },
    servers: [{ url: issuer }],
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an opaque access token this provider issued with the `account` scope (qr_login for /api/v1/qr-login) to a client registered for it: the app, the mini-program or the account centre; a department\'s token is refused (401 if invalid, 403 account_client_not_allowed or account_scope_missing)' },
        staffSession: { type: 'apiKey', in: 'cookie', name: 'civic_staff', description: 'the staff console session, from POST /api/v1/admin/login then /api/v1/admin/login/totp; with ADMIN_PORT, /api/v1/admin answers only on the staff listener (and with ADMIN_ALLOWED_NETWORKS only to those networks), 404 elsewhere' },
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
