import test from 'ava';
import { z } from 'zod';
import { nonSnakeKeys } from '../helpers/api-contract.js';
import { validate, type Schema } from '../helpers/json-schema.js';

/**
 * The contract test's validator must refuse what the document does not allow, or the
 * contract test proves nothing: each keyword z.toJSONSchema emits is shown to bite.
 */
const answer = z.object({
  id: z.string().min(2),
  at: z.iso.datetime(),
  level: z.number().int().min(1).max(3),
  state: z.enum(['open', 'done']),
  note: z.string().nullable(),
  done: z.literal(true),
  tags: z.array(z.string()).min(1),
  extra: z.object({ code: z.string().regex(/^[a-z]+$/) }).optional(),
  details: z.record(z.string(), z.unknown()),
});
const schema = z.toJSONSchema(answer, { io: 'output' }) as Schema;
const good = { id: 'g1', at: '2026-03-01T08:00:00.000Z', level: 2, state: 'open', note: null, done: true, tags: ['a'], details: { anything: [1] } };

test('a conforming answer passes', (t) => {
  t.deepEqual(validate(schema, good), []);
  t.deepEqual(validate(schema, { ...good, extra: { code: 'abc' } }), []);
});

test('each constraint refuses a value that breaks it, naming where', (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...good, id: undefined }, /"id" is required/],
    [{ ...good, loginAt: 1 }, /"loginAt" is not a documented property/],
    [{ ...good, id: 'x' }, /\$\.id: shorter than 2/],
    [{ ...good, at: '2026-03-01 08:00' }, /\$\.at: .* is not a date-time/],
    [{ ...good, level: 2.5 }, /\$\.level: 2\.5 is not of type integer/],
    [{ ...good, level: 4 }, /\$\.level: 4 > 3/],
    [{ ...good, state: 'closed' }, /\$\.state: "closed" is not one of/],
    [{ ...good, note: 3 }, /\$\.note: 3 is not of type string or null/],
    [{ ...good, done: false }, /\$\.done: false is not true/],
    [{ ...good, tags: [] }, /\$\.tags: fewer than 1 items/],
    [{ ...good, tags: [1] }, /\$\.tags\[0\]: 1 is not of type string/],
    [{ ...good, extra: { code: 'ABC' } }, /\$\.extra\.code: "ABC" does not match/],
  ];
  for (const [value, problem] of cases) {
    const problems = validate(schema, JSON.parse(JSON.stringify(value)));
    t.true(problems.some((p) => problem.test(p)), `${problem} in ${JSON.stringify(problems)}`);
  }
});

test('references, allOf and anyOf are followed; an unknown keyword is a problem, never a pass', (t) => {
  const root = {
    components: { schemas: { Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } }, additionalProperties: false } } },
  };
  const refused = { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { enum: ['a', 'b'] } } }] };
  t.deepEqual(validate(refused, { error: 'a' }, root), []);
  t.true(validate(refused, { error: 'c' }, root).some((p) => p.includes('is not one of')));
  t.true(validate(refused, { error: 'a', more: 1 }, root).some((p) => p.includes('"more" is not a documented property')));
  t.true(validate({ anyOf: [{ type: 'string' }, { type: 'null' }] }, 1).length > 0);
  t.deepEqual(validate({ type: 'string', if: { const: 'x' } }, 'x'), ['$: the validator does not know the keyword "if"']);
});

test('keys that are not snake_case are found wherever they are', (t) => {
  t.deepEqual(nonSnakeKeys({ ok_key: [{ loginAt: 1 }], nested: { displayName: 'x', fine: { also_fine: true } } }), ['$.ok_key[0].loginAt', '$.nested.displayName']);
});
