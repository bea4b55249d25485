import test from 'ava';
import { AppError } from '../../src/errors.js';
import { approximateIp, parseQrPayload, qrPayload } from '../../src/flows/qr-login.js';

test('the app is shown the browser\'s network, never its exact address', (t) => {
  t.is(approximateIp('203.0.113.57'), '203.0.113.*');
  t.is(approximateIp('::ffff:198.51.100.9'), '198.51.100.*');
  t.is(approximateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348'), '2001:db8:85a3::/48');
  t.is(approximateIp('2001:db8::1'), '2001:db8::/48');
  t.is(approximateIp(undefined), undefined);
  t.is(approximateIp('not an address'), undefined);
});

test('a payload is ours only with the prefix and a well-formed id', (t) => {
  const id = 'A'.repeat(43);
  t.is(parseQrPayload(qrPayload(id)), id);
  for (const bad of [id, `https://evil.example/${id}`, qrPayload(`${id}A`), qrPayload('A'.repeat(42)), qrPayload(`${'A'.repeat(42)}/`)]) {
    const error = t.throws(() => parseQrPayload(bad));
    t.true(error instanceof AppError && error.code === 'qr_expired', bad);
  }
});
