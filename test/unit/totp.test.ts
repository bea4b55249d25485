import test from 'ava';
import { generate } from 'otplib';
import {
  RECOVERY_CODE_ALPHABET,
  createTotpSecret,
  generateRecoveryCodes,
  normaliseRecoveryCode,
  otpauthUri,
  verifyTotp,
} from '../../src/identity/totp.js';

/** A fixed secret and a fixed clock, so every case is deterministic. */
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const NOW_MS = 1_750_000_005_000; // 5 s into its 30-second step
const STEP = Math.floor(NOW_MS / 1000 / 30);

/** The token an authenticator app shows during `step`, computed by otplib itself. */
const tokenAt = (step: number, secret = SECRET) => generate({ secret, epoch: step * 30 + 10 });

test('secrets are 160-bit base32 and never repeat', (t) => {
  const secrets = new Set(Array.from({ length: 50 }, () => createTotpSecret()));
  t.is(secrets.size, 50);
  for (const secret of secrets) t.regex(secret, /^[A-Z2-7]{32}$/);
});

test('the otpauth URI names the platform as issuer, in label and parameter', (t) => {
  const uri = new URL(otpauthUri({ secret: SECRET, accountLabel: '138****0000' }));
  t.is(uri.protocol, 'otpauth:');
  t.is(uri.host, 'totp');
  t.is(decodeURIComponent(uri.pathname), '/统一身份认证平台:138****0000');
  t.is(uri.searchParams.get('issuer'), '统一身份认证平台');
  t.is(uri.searchParams.get('secret'), SECRET);
  // SHA-1, 6 digits and 30 s are the defaults apps assume; anything else would be spelled out.
  t.is(uri.searchParams.get('algorithm'), null);
  t.is(uri.searchParams.get('digits'), null);
  t.is(uri.searchParams.get('period'), null);
});

test('a colon in the account label cannot pose as another issuer', (t) => {
  const uri = new URL(otpauthUri({ secret: SECRET, accountLabel: 'evil:138****0000', issuer: 'Test' }));
  t.is(decodeURIComponent(uri.pathname), '/Test:evil_138****0000');
});

test('the current token verifies and reports its step', async (t) => {
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP), now: NOW_MS }), { ok: true, step: STEP });
});

test('a token from a real authenticator clock verifies against the real clock', async (t) => {
  const secret = createTotpSecret();
  const result = await verifyTotp({ secret, token: await generate({ secret }) });
  t.true(result.ok);
});

test('tokens of the previous and next steps are accepted', async (t) => {
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP - 1), now: NOW_MS }), { ok: true, step: STEP - 1 });
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP + 1), now: NOW_MS }), { ok: true, step: STEP + 1 });
});

test('tokens two steps away are refused', async (t) => {
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP - 2), now: NOW_MS }), { ok: false });
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP + 2), now: NOW_MS }), { ok: false });
});

test('a used step cannot be replayed, nor any step before it', async (t) => {
  const token = await tokenAt(STEP);
  const first = await verifyTotp({ secret: SECRET, token, now: NOW_MS });
  t.true(first.ok);
  const lastUsedStep = first.ok ? first.step : -1;

  t.deepEqual(await verifyTotp({ secret: SECRET, token, lastUsedStep, now: NOW_MS }), { ok: false });
  t.deepEqual(await verifyTotp({ secret: SECRET, token, lastUsedStep, now: NOW_MS + 20_000 }), { ok: false }, 'still refused in the next step');
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP - 1), lastUsedStep, now: NOW_MS }), { ok: false });
  // The next step's token is new, and is accepted.
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP + 1), lastUsedStep, now: NOW_MS }), { ok: true, step: STEP + 1 });
});

test('a token is accepted when only older steps were used', async (t) => {
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP), lastUsedStep: STEP - 1, now: NOW_MS }), { ok: true, step: STEP });
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP), lastUsedStep: 0, now: NOW_MS }), { ok: true, step: STEP });
});

test('a lastUsedStep beyond the whole window refuses without throwing', async (t) => {
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP), lastUsedStep: STEP + 1, now: NOW_MS }), { ok: false });
  t.deepEqual(await verifyTotp({ secret: SECRET, token: await tokenAt(STEP), lastUsedStep: STEP + 1000, now: NOW_MS }), { ok: false });
});

test('the token of another secret is refused', async (t) => {
  const other = createTotpSecret();
  const token = await tokenAt(STEP, other);
  // Guard against the one-in-a-million case of both secrets sharing the token.
  if (token === (await tokenAt(STEP))) return t.pass();
  t.deepEqual(await verifyTotp({ secret: SECRET, token, now: NOW_MS }), { ok: false });
});

test('spaces in a token are ignored; anything but six digits is refused', async (t) => {
  const token = await tokenAt(STEP);
  t.true((await verifyTotp({ secret: SECRET, token: ` ${token.slice(0, 3)} ${token.slice(3)} `, now: NOW_MS })).ok);
  for (const bad of ['', token.slice(0, 5), `${token}0`, 'abcdef', `${token.slice(0, 5)}x`, '-12345']) {
    t.deepEqual(await verifyTotp({ secret: SECRET, token: bad, now: NOW_MS }), { ok: false }, bad);
  }
});

test('recovery codes: ten, shaped XXXX-XXXX, from the unambiguous alphabet, all different', (t) => {
  const codes = generateRecoveryCodes();
  t.is(codes.length, 10);
  t.is(new Set(codes).size, 10);
  for (const code of codes) {
    t.regex(code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$/);
    t.notRegex(code, /[01OIL]/);
  }
});

test('a repeated draw is replaced, so the ten codes are always distinct', (t) => {
  // The first two codes come out identical (all "2"), then the draws move on.
  let draw = 0;
  const codes = generateRecoveryCodes(() => (draw++ < 16 ? 0 : draw % 31));
  t.is(codes.length, 10);
  t.is(new Set(codes).size, 10);
  t.is(codes[0], '2222-2222');
});

test('recovery codes are random: no repeats across many sets, and every alphabet character turns up', (t) => {
  const all = Array.from({ length: 100 }, () => generateRecoveryCodes()).flat();
  t.is(new Set(all).size, all.length);
  const seen = new Set(all.join('').replaceAll('-', ''));
  t.deepEqual([...seen].sort(), [...RECOVERY_CODE_ALPHABET].sort());
  t.is(RECOVERY_CODE_ALPHABET.length, 31);
});

test('recovery codes are normalised: upper-case, without spaces or dashes', (t) => {
  t.is(normaliseRecoveryCode('7KQ2-M9XD'), '7KQ2M9XD');
  t.is(normaliseRecoveryCode(' 7kq2 - m9xd '), '7KQ2M9XD');
  t.is(normaliseRecoveryCode('7kq2m9xd'), '7KQ2M9XD');
  t.is(normaliseRecoveryCode('７ｋｑ２－ｍ９ｘｄ'), '7KQ2M9XD');
  const [code] = generateRecoveryCodes();
  t.is(normaliseRecoveryCode(code!.toLowerCase()), code!.replace('-', ''));
});
