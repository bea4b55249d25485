import test from 'ava';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import { PASSWORD, ZHANG_SAN } from '../../helpers/accounts.js';
import { beginAuthorization, PORTAL, passwordLogin } from '../../helpers/oidc.js';
import { startServer } from '../../helpers/server.js';

const BANK_CARD = '6222020200112233445';

test('no personal datum, password, code, flow id or interaction uid appears in the logs of registration and login', async (t) => {
  const lines: string[] = [];
  const server = await startServer({ LOG_LEVEL: 'trace', SMS_LIMIT_PER_MINUTE: '10' }, { logSink: { write: (line) => { lines.push(line); } } });
  try {
    const outbox = server.deps.config.sms.kind === 'outbox' ? server.deps.config.sms.file : '';
    let flowToken = '';
    const api = async (path: string, body?: unknown) => {
      const response = await fetch(`${server.url}/api/v1/registration${path}`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-flow-token': flowToken }, body: body === undefined ? undefined : JSON.stringify(body),
      });
      return await response.json() as Record<string, unknown>;
    };
    const started = await api('/');
    const flow = started.flow_id as string;
    flowToken = started.flow_token as string;
    await api(`/${flow}/identity`, { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber });
    await api(`/${flow}/phone/code`, { phone: ZHANG_SAN.phone });
    const registrationCode = await latestOutboxCode(outbox, ZHANG_SAN.phone, 'register');
    await api(`/${flow}/phone/verify`, { code: registrationCode });
    await api(`/${flow}/factors`, { kind: 'bank_card', number: BANK_CARD, reserved_phone: ZHANG_SAN.phone });
    await api(`/${flow}/factors`, { kind: 'bank_card', number: '6222000000000000000', reserved_phone: ZHANG_SAN.phone });
    const done = await api(`/${flow}/complete`, { password: PASSWORD, accept_agreement: true });
    t.is(done.state, 'complete');

    const { tokens } = await passwordLogin(server.url, PORTAL, ZHANG_SAN.idNumber, PASSWORD);
    t.is(tokens.status, 200);
    const wrong = await beginAuthorization(server.url, PORTAL);
    await wrong.browser.post(`/interaction/${wrong.uid}/login/password`, { csrf: wrong.csrf, identifier: ZHANG_SAN.phone, password: 'Wrong-Password-1' });
    const sms = await beginAuthorization(server.url, PORTAL);
    await sms.browser.post(`/interaction/${sms.uid}/login/sms/send`, { csrf: sms.csrf, phone: ZHANG_SAN.phone });
    const loginCode = await latestOutboxCode(outbox, ZHANG_SAN.phone, 'login');
    await sms.browser.post(`/interaction/${sms.uid}/login/sms`, { csrf: sms.csrf, phone: ZHANG_SAN.phone, code: loginCode! });

    const log = lines.join('');
    t.true(lines.length > 10, 'the flows were logged');
    // Flow ids, flow tokens and interaction uids are keys to a step in progress: never logged either.
    const secrets = [flow, flowToken, wrong.uid, sms.uid, ZHANG_SAN.idNumber, ZHANG_SAN.idNumber.toLowerCase(), ZHANG_SAN.phone, ZHANG_SAN.name, BANK_CARD, PASSWORD, 'Wrong-Password-1', registrationCode!, loginCode!, tokens.body.access_token!, tokens.body.id_token!];
    t.true(secrets.every((secret) => typeof secret === "string" && secret.length > 0), JSON.stringify(secrets.map((s) => typeof s)));
    for (const secret of secrets) t.false(log.includes(secret), `the log contains ${secret.slice(0, 4)}…`);
  } finally {
    await server.close();
  }
});
