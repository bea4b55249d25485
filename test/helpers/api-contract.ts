import { validate, type Schema } from './json-schema.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface MediaDoc { schema?: Schema }
interface ResponseDoc { description: string; content?: Record<string, MediaDoc> }
interface OperationDoc { requestBody?: { content: Record<string, MediaDoc> }; responses: Record<string, ResponseDoc> }
export interface OpenApiDocument { openapi: string; paths: Record<string, Record<string, OperationDoc>> }

export interface ContractCall {
  /** Values for the path's `{name}` parameters. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The status this step needs to go on; another one stops the walk with the answer. */
  expect?: number;
}

export interface ContractAnswer { status: number; body: Json; headers: Headers }

/** How a request is sent: fetch, or a cookie-keeping browser's request (the staff console). */
export type Send = (url: string, init: RequestInit) => Promise<Response>;

/** A caller with its credentials: `call('GET /api/v1/account', {...})`. */
export type Caller = (operation: string, call?: ContractCall) => Promise<ContractAnswer>;

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Keys of a JSON value, nested, that are not snake_case, with where they are. */
export function nonSnakeKeys(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => nonSnakeKeys(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [...(SNAKE_CASE.test(key) ? [] : [`${path}.${key}`]), ...nonSnakeKeys(inner, `${path}.${key}`)]);
}

/**
 * Holds the published OpenAPI document against real answers. Every call names an
 * operation of the document ("POST /api/v1/registration/{flowId}/identity"); its answer's
 * status must be one the operation documents, and its body must conform to the schema
 * documented for that status (no body for one documented without content). A request body
 * the server accepted must conform to the documented request schema as well, and every
 * key either way must be snake_case. Problems are collected, not thrown, so one run lists
 * them all; `unexercised` names the operations no call has yet answered with success.
 */
export class ApiContract {
  readonly problems: string[] = [];
  private readonly succeeded = new Set<string>();
  private readonly refused = new Set<string>();

  private constructor(private readonly base: string, readonly document: OpenApiDocument) {}

  static async load(base: string): Promise<ApiContract> {
    const response = await fetch(`${base}/api/v1/openapi.json`);
    if (response.status !== 200) throw new Error(`no OpenAPI document: ${response.status}`);
    return new ApiContract(base, await response.json() as OpenApiDocument);
  }

  /** Every operation of the document, as "METHOD /path". */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
  }

  unexercised(): string[] {
    return this.operations().filter((operation) => !this.succeeded.has(operation));
  }

  /** Operations whose refusals no call has seen (for the reader: error paths are exercised where cheap). */
  withoutRefusal(): string[] {
    return this.operations().filter((operation) => !this.refused.has(operation));
  }

  /** A caller that sends `headers` with every call, through `send`. */
  as(headers: Record<string, string> = {}, send: Send = fetch): Caller {
    return (operation, call = {}) => this.call(operation, { ...call, headers: { ...headers, ...call.headers } }, send);
  }

  async call(operation: string, call: ContractCall = {}, send: Send = fetch): Promise<ContractAnswer> {
    const [method = '', path = ''] = operation.split(' ');
    const doc = this.document.paths[path]?.[method.toLowerCase()];
    if (!doc) throw new Error(`${operation} is not in the document`);
    const url = new URL(this.base + path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = call.params?.[name];
      if (value === undefined) throw new Error(`${operation}: no value for {${name}}`);
      return encodeURIComponent(value);
    }));
    for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'application/json', ...(call.body === undefined ? {} : { 'content-type': 'application/json' }), ...call.headers };
    const response = await send(url.href, { method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) });
    const text = await response.text();
    const answer: ContractAnswer = { status: response.status, headers: response.headers, body: undefined };
    const documented = doc.responses[String(response.status)];
    if (!documented) {
      this.problems.push(`${operation}: answered ${response.status} (documented: ${Object.keys(doc.responses).join(', ')}): ${text.slice(0, 200)}`);
    } else {
      answer.body = this.checkBody(operation, documented, response, text);
    }
    if (response.status < 400) {
      this.succeeded.add(operation);
      this.checkRequest(operation, doc, call.body);
    } else {
      this.refused.add(operation);
    }
    if (answer.body === undefined && text && response.headers.get('content-type')?.includes('json')) answer.body = JSON.parse(text) as Json;
    if (call.expect !== undefined && response.status !== call.expect) throw new Error(`${operation}: expected ${call.expect}, answered ${response.status}: ${text.slice(0, 300)}`);
    return answer;
  }

  private checkBody(operation: string, documented: ResponseDoc, response: Response, text: string): Json {
    const where = `${operation} → ${response.status}`;
    const [media, content] = Object.entries(documented.content ?? {})[0] ?? [];
    if (!media || !content) {
      if (text !== '') this.problems.push(`${where}: documented without a body, answered ${text.slice(0, 100)}`);
      return undefined;
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith(media)) this.problems.push(`${where}: documented as ${media}, answered ${type}`);
    if (media !== 'application/json') return text;
    let body: Json;
    try {
      body = JSON.parse(text) as Json;
    } catch {
      this.problems.push(`${where}: not JSON: ${text.slice(0, 100)}`);
      return undefined;
    }
    if (content.schema) this.problems.push(...validate(content.schema, body, this.document).map((problem) => `${where}: ${problem}`));
    this.problems.push(...nonSnakeKeys(body).map((key) => `${where}: key not snake_case: ${key}`));
    return body;
  }

  /** What the server accepted, the document must accept too. */
  private checkRequest(operation: string, doc: OperationDoc, body: unknown): void {
    if (body === undefined) return;
    const schema = doc.requestBody?.content['application/json']?.schema;
    if (!schema) {
      this.problems.push(`${operation}: accepted a body the document does not describe`);
      return;
    }
    this.problems.push(...validate(schema, body, this.document).map((problem) => `${operation} request: ${problem}`));
    this.problems.push(...nonSnakeKeys(body).map((key) => `${operation} request: key not snake_case: ${key}`));
  }
}
