import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { UpstreamUnavailableError } from '../../src/ports/errors.js';
import { createSmsGateway, latestOutboxCode, readOutbox } from '../../src/ports/sms/index.js';
import { HttpSmsGateway } from '../../src/ports/sms/http.js';
import { OutboxSmsGateway } from '../../src/ports/sms/outbox.js';
import { codeMessage, codeText, formatChinaTime, noticeMessage, noticeText, SMS_SIGNATURE } from '../../src/ports/sms/templates.js';
import type { CodePurpose } from '../../src/ports/sms/types.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'civic-sms-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Received { path: string; headers: IncomingHttpHeaders; body: string }

async function serve(handler: (response: ServerResponse, index: number) => void, port = 0) {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    handler(res, received.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const CODE_PURPOSES: CodePurpose[] = ['register', 'login', 'reset', 'rebind-old', 'rebind-new', 'verify'];
const AT = new Date('2025-01-01T08:00:00.000Z');

// ---- templates ---------------------------------------------------------------------------

test('the registration text is exactly the approved template', (t) => {
  t.is(codeText('register', '123456'), '【统一身份认证平台】您的注册验证码为123456，5分钟内有效。请勿泄露给他人。');
  t.is(codeText('register', '123456', 10), '【统一身份认证平台】您的注册验证码为123456，10分钟内有效。请勿泄露给他人。');
});

test('every code text is signed zh-CN, contains the code, and differs by purpose', (t) => {
  const texts = CODE_PURPOSES.map((purpose) => codeText(purpose, '804215'));
  for (const text of texts) {
    t.true(text.startsWith(SMS_SIGNATURE), text);
    t.true(text.includes('804215'), text);
    t.regex(text, /验证码/);
    t.regex(text, /请勿泄露给他人。$/);
    t.notRegex(text, /[A-Za-z]/, 'no Latin text in a zh-CN message');
  }
  t.is(new Set(texts).size, CODE_PURPOSES.length);
});

test('a code must be 4 to 8 digits', (t) => {
  for (const code of ['123', '123456789', '12a456', '']) t.throws(() => codeText('login', code), { instanceOf: TypeError });
});

test('notices are signed zh-CN texts with their parameters, in China time', (t) => {
  const at = new Date('2025-01-01T16:05:00.000Z'); // 00:05 on 2 January in Beijing
  t.is(formatChinaTime(at), '2025年1月2日 00:05');
  t.is(noticeText({ kind: 'password-reset', at }), `${SMS_SIGNATURE}您的账号密码已于2025年1月2日 00:05重置成功。如非本人操作，请立即联系客服冻结账号。`);
  const changed = noticeText({ kind: 'phone-changed', at, newPhone: '139****0001' });
  t.true(changed.startsWith(SMS_SIGNATURE));
  t.true(changed.includes('139****0001'));
  t.true(changed.includes('2025年1月2日 00:05'));
  t.is(noticeText({ kind: 'account-banned', at }), `${SMS_SIGNATURE}您的账号已于2025年1月2日 00:05被停用。如有疑问，请联系客服。`);
  t.regex(noticeText({ kind: 'account-banned', at, reason: '涉嫌冒用他人身份' }), /被停用，原因：涉嫌冒用他人身份。/);
  t.regex(noticeText({ kind: 'account-unbanned', at }), /恢复正常使用/);
});

test('a phone-change notice refuses an unmasked new phone', (t) => {
  t.throws(() => noticeText({ kind: 'phone-changed', at: AT, newPhone: '13900000001' }), { instanceOf: TypeError });
});

test('message builders: codes carry their code, notices none', (t) => {
  t.deepEqual(codeMessage('13800138000', 'login', '4321'), {
    to: '13800138000', purpose: 'login', code: '4321', text: '【统一身份认证平台】您的登录验证码为4321，5分钟内有效。请勿泄露给他人。',
  });
  const notice = noticeMessage('13800138000', { kind: 'account-unbanned', at: AT });
  t.is(notice.purpose, 'notice');
  t.false('code' in notice);
});

// ---- outbox ------------------------------------------------------------------------------

test('the outbox writes one JSON line per message, exactly in the documented form, creating directories', async (t) => {
  const file = join(await tempDir(t), 'nested', 'deeper', 'outbox.jsonl');
  const gateway = new OutboxSmsGateway(file, () => AT);
  await gateway.send(codeMessage('13800138000', 'register', '123456'));
  await gateway.send(noticeMessage('13800138000', { kind: 'account-unbanned', at: AT }));
  const content = await readFile(file, 'utf8');
  t.is(content,
    '{"at":"2025-01-01T08:00:00.000Z","to":"13800138000","purpose":"register","code":"123456",'
    + '"text":"【统一身份认证平台】您的注册验证码为123456，5分钟内有效。请勿泄露给他人。"}\n'
    + '{"at":"2025-01-01T08:00:00.000Z","to":"13800138000","purpose":"notice",'
    + '"text":"【统一身份认证平台】您的账号已于2025年1月1日 16:00恢复正常使用。"}\n');
  t.deepEqual(await readOutbox(file), [
    { at: '2025-01-01T08:00:00.000Z', to: '13800138000', purpose: 'register', code: '123456', text: '【统一身份认证平台】您的注册验证码为123456，5分钟内有效。请勿泄露给他人。' },
    { at: '2025-01-01T08:00:00.000Z', to: '13800138000', purpose: 'notice', text: '【统一身份认证平台】您的账号已于2025年1月1日 16:00恢复正常使用。' },
  ]);
});

test('concurrent sends, from one gateway or two on the same file, give whole lines', async (t) => {
  const file = join(await tempDir(t), 'outbox.jsonl');
  const first = createSmsGateway({ kind: 'outbox', file });
  const second = createSmsGateway({ kind: 'outbox', file });
  const codes = Array.from({ length: 300 }, (_, i) => String(100000 + i));
  await Promise.all(codes.map((code, i) => (i % 2 ? first : second).send(codeMessage(`139${String(i).padStart(8, '0')}`, 'verify', code))));
  const lines = (await readFile(file, 'utf8')).split('\n');
  t.is(lines.pop(), '', 'the file ends with a newline');
  t.is(lines.length, codes.length);
  const entries = lines.map((line) => JSON.parse(line) as { code: string; to: string; text: string });
  t.deepEqual(entries.map((entry) => entry.code).sort(), codes);
  for (const entry of entries) t.true(entry.text.includes(entry.code));
});

test('one failed write does not stop the outbox', async (t) => {
  const dir = await tempDir(t);
  const gateway = new OutboxSmsGateway(join(dir, 'outbox.jsonl'));
  // A directory where the file should be makes the append fail.
  const blocked = new OutboxSmsGateway(dir);
  const error = await t.throwsAsync(blocked.send(codeMessage('13800138000', 'login', '1111')), { instanceOf: UpstreamUnavailableError });
  t.is(error?.upstream, 'sms.outbox');
  await gateway.send(codeMessage('13800138000', 'login', '2222'));
  t.is(await latestOutboxCode(join(dir, 'outbox.jsonl'), '13800138000'), '2222');
});

test('readOutbox reads an absent file as empty; latestOutboxCode finds the newest code per phone and purpose', async (t) => {
  const file = join(await tempDir(t), 'outbox.jsonl');
  t.deepEqual(await readOutbox(file), []);
  t.is(await latestOutboxCode(file, '13800138000'), undefined);
  const gateway = createSmsGateway({ kind: 'outbox', file });
  await gateway.send(codeMessage('13800138000', 'register', '111111'));
  await gateway.send(codeMessage('13800138000', 'login', '222222'));
  await gateway.send(codeMessage('13900139000', 'login', '333333'));
  await gateway.send(noticeMessage('13800138000', { kind: 'password-reset', at: AT }));
  t.is(await latestOutboxCode(file, '13800138000'), '222222');
  t.is(await latestOutboxCode(file, '13800138000', 'register'), '111111');
  t.is(await latestOutboxCode(file, '13900139000'), '333333');
  t.is(await latestOutboxCode(file, '13700137000'), undefined);
});

test('gateways refuse messages that can only be mistakes', async (t) => {
  const file = join(await tempDir(t), 'outbox.jsonl');
  const gateway = createSmsGateway({ kind: 'outbox', file });
  const good = codeMessage('13800138000', 'register', '123456');
  await t.throwsAsync(gateway.send({ ...good, to: '+8613800138000' }), { instanceOf: TypeError });
  await t.throwsAsync(gateway.send({ ...good, to: '12800138000' }), { instanceOf: TypeError });
  await t.throwsAsync(gateway.send({ ...good, code: undefined }), { instanceOf: TypeError });
  await t.throwsAsync(gateway.send({ ...good, code: '654321' }), { instanceOf: TypeError, message: /contains/ });
  await t.throwsAsync(gateway.send({ ...noticeMessage('13800138000', { kind: 'password-reset', at: AT }), code: '123456' }), { instanceOf: TypeError });
  t.deepEqual(await readOutbox(file), []);
});

// ---- http gateway ------------------------------------------------------------------------

test('the http gateway posts {to, text, purpose} as JSON with the token, once', async (t) => {
  const server = await serve((response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('queued');
  });
  t.teardown(server.close);
  const gateway = createSmsGateway({ kind: 'http', url: `${server.url}/sms/send`, apiToken: 'sms-token' });
  t.is(gateway.kind, 'http');
  const message = codeMessage('13800138000', 'register', '123456');
  await gateway.send(message);
  t.is(server.received.length, 1);
  const [request] = server.received;
  t.is(request?.path, '/sms/send');
  t.is(request?.headers['content-type'], 'application/json');
  t.is(request?.headers.authorization, 'Bearer sms-token');
  t.deepEqual(JSON.parse(request?.body ?? ''), { to: '13800138000', text: message.text, purpose: 'register' });
});

test('the http gateway never retries once the gateway may have the message', async (t) => {
  const failing = await serve((response) => {
    response.writeHead(503);
    response.end();
  });
  const silent = await serve(() => undefined);
  t.teardown(failing.close);
  t.teardown(silent.close);
  const clock = { now: () => 0, sleep: async () => undefined, random: () => 0 };
  const message = codeMessage('13800138000', 'login', '123456');

  const serverError = await t.throwsAsync(new HttpSmsGateway({ url: failing.url, retries: 3, clock }).send(message), { instanceOf: UpstreamUnavailableError });
  t.is(serverError?.upstream, 'sms');
  t.is(serverError?.reason, 'server-error');
  t.is(failing.received.length, 1);

  const timeout = await t.throwsAsync(new HttpSmsGateway({ url: silent.url, retries: 3, timeoutMs: 150, clock }).send(message), { instanceOf: UpstreamUnavailableError });
  t.is(timeout?.reason, 'timeout');
  t.is(silent.received.length, 1);
});

test('the http gateway retries a refused connection, delivering the message once', async (t) => {
  const probe = await serve(() => undefined);
  await probe.close();
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  const clock = {
    now: () => 0,
    random: () => 0,
    sleep: async () => {
      server ??= await serve((response) => {
        response.writeHead(204);
        response.end();
      }, probe.port);
    },
  };
  t.teardown(() => server?.close());
  await new HttpSmsGateway({ url: `http://127.0.0.1:${probe.port}`, retries: 2, clock }).send(codeMessage('13800138000', 'reset', '777777'));
  t.is(server?.received.length, 1);
  t.regex(JSON.parse(server?.received[0]?.body ?? '{}').text, /777777/);
});
