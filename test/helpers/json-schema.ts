/**
 * A JSON Schema (2020-12) validator for the subset the OpenAPI document uses: what
 * z.toJSONSchema emits, plus `$ref` and `allOf` of the error responses. A keyword it does
 * not know is reported as a problem rather than ignored, so a schema can never pass a
 * value by using something this validator skips. Written here because no validator is
 * among the project's dependencies, and one small enough to read is what a contract test
 * needs.
 */
export type Schema = boolean | { [keyword: string]: unknown };

/** Keywords that say something about a value without constraining it. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'contentEncoding', 'contentMediaType', '$defs']);

const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) && !Number.isNaN(Date.parse(value)),
  date: (value) => /^\d{4}-\d\d-\d\d$/.test(value) && !Number.isNaN(Date.parse(value)),
  uuid: (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
  email: (value) => /^[^@\s]+@[^@\s]+$/.test(value),
  uri: (value) => URL.canParse(value),
  base64: (value) => /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value),
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeOf(value) === type;
}

/** Follows a local reference (`#/components/schemas/Error`, `#/$defs/x`) in `root`. */
function resolve(root: unknown, ref: string): Schema {
  if (!ref.startsWith('#')) throw new Error(`only local references are supported: ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  if (node === undefined) throw new Error(`unresolved reference ${ref}`);
  return node as Schema;
}

/** Every way `value` fails `schema`, each with the JSON path where it does; none when it conforms. */
export function validate(schema: Schema, value: unknown, root: unknown = schema, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  const problems: string[] = [];
  const fail = (message: string) => problems.push(`${path}: ${message}`);
  for (const [keyword, expected] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case '$ref': problems.push(...validate(resolve(root, expected as string), value, root, path)); break;
      case 'type': {
        const types = Array.isArray(expected) ? expected as string[] : [expected as string];
        if (!types.some((type) => hasType(value, type))) fail(`${JSON.stringify(value)?.slice(0, 60)} is not of type ${types.join(' or ')}`);
        break;
      }
      case 'enum': if (!(expected as unknown[]).some((option) => JSON.stringify(option) === JSON.stringify(value))) fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(expected)}`); break;
      case 'const': if (JSON.stringify(expected) !== JSON.stringify(value)) fail(`${JSON.stringify(value)} is not ${JSON.stringify(expected)}`); break;
      case 'allOf': for (const sub of expected as Schema[]) problems.push(...validate(sub, value, root, path)); break;
      case 'anyOf': if (!(expected as Schema[]).some((sub) => validate(sub, value, root, path).length === 0)) fail('matches none of anyOf'); break;
      case 'oneOf': {
        const matching = (expected as Schema[]).filter((sub) => validate(sub, value, root, path).length === 0).length;
        if (matching !== 1) fail(`matches ${matching} of oneOf, not exactly one`);
        break;
      }
      case 'not': if (validate(expected as Schema, value, root, path).length === 0) fail('matches a schema it must not'); break;
      case 'properties': case 'required': case 'additionalProperties': case 'propertyNames':
        if (typeOf(value) === 'object') problems.push(...objectKeyword(keyword, schema, value as Record<string, unknown>, root, path));
        break;
      case 'items': case 'prefixItems': case 'minItems': case 'maxItems':
        if (Array.isArray(value)) problems.push(...arrayKeyword(keyword, schema, value, root, path));
        break;
      case 'minLength': case 'maxLength': case 'pattern': case 'format':
        if (typeof value === 'string') problems.push(...stringKeyword(keyword, expected, value, path));
        break;
      case 'minimum': if (typeof value === 'number' && value < (expected as number)) fail(`${value} < ${String(expected)}`); break;
      case 'maximum': if (typeof value === 'number' && value > (expected as number)) fail(`${value} > ${String(expected)}`); break;
      case 'exclusiveMinimum': if (typeof value === 'number' && value <= (expected as number)) fail(`${value} <= ${String(expected)}`); break;
      case 'exclusiveMaximum': if (typeof value === 'number' && value >= (expected as number)) fail(`${value} >= ${String(expected)}`); break;
      default: fail(`the validator does not know the keyword "${keyword}"`);
    }
  }
  return problems;
}

function objectKeyword(keyword: string, schema: Record<string, unknown>, value: Record<string, unknown>, root: unknown, path: string): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  switch (keyword) {
    case 'properties':
      return Object.entries(properties).flatMap(([name, sub]) => (name in value ? validate(sub, value[name], root, `${path}.${name}`) : []));
    case 'required':
      return (schema.required as string[]).filter((name) => !(name in value)).map((name) => `${path}: "${name}" is required`);
    case 'additionalProperties':
      return Object.keys(value).filter((name) => !(name in properties)).flatMap((name) => (
        schema.additionalProperties === false ? [`${path}: "${name}" is not a documented property`] : validate(schema.additionalProperties as Schema, value[name], root, `${path}.${name}`)
      ));
    default:
      return Object.keys(value).flatMap((name) => validate(schema.propertyNames as Schema, name, root, `${path}{${name}}`));
  }
}

function arrayKeyword(keyword: string, schema: Record<string, unknown>, value: unknown[], root: unknown, path: string): string[] {
  const prefix = (schema.prefixItems ?? []) as Schema[];
  switch (keyword) {
    case 'prefixItems': return prefix.flatMap((sub, i) => (i < value.length ? validate(sub, value[i], root, `${path}[${i}]`) : []));
    case 'items': return value.slice(prefix.length).flatMap((item, i) => validate(schema.items as Schema, item, root, `${path}[${i + prefix.length}]`));
    case 'minItems': return value.length < (schema.minItems as number) ? [`${path}: fewer than ${String(schema.minItems)} items`] : [];
    default: return value.length > (schema.maxItems as number) ? [`${path}: more than ${String(schema.maxItems)} items`] : [];
  }
}

/** ECMA-262 with the u flag, as JSON Schema means it; a pattern that is not valid in u mode (an escaped `-`) without. */
function patternOf(source: string): RegExp {
  try {
    return new RegExp(source, 'u');
  } catch {
    return new RegExp(source);
  }
}

function stringKeyword(keyword: string, expected: unknown, value: string, path: string): string[] {
  const length = [...value].length;
  switch (keyword) {
    case 'minLength': return length < (expected as number) ? [`${path}: shorter than ${String(expected)}`] : [];
    case 'maxLength': return length > (expected as number) ? [`${path}: longer than ${String(expected)}`] : [];
    case 'pattern': return patternOf(expected as string).test(value) ? [] : [`${path}: ${JSON.stringify(value.slice(0, 40))} does not match ${String(expected).slice(0, 60)}`];
    default: {
      const check = FORMATS[expected as string];
      if (!check) return [`${path}: the validator does not know the format "${String(expected)}"`];
      return check(value) ? [] : [`${path}: ${JSON.stringify(value.slice(0, 40))} is not a ${String(expected)}`];
    }
  }
}
