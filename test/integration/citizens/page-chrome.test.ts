import test from 'ava';
import { HttpBrowser, errorCode, hidden } from '../../helpers/http-browser.js';
import { APP, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * What every citizen page carries and where each journey's end leads: the site's footer
 * (主办单位, 网站标识码, 备案号, the helpline, the agreement), and a way on from an error
 * page or the sign-out page instead of a dead end.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({
    SITE_OPERATOR: '某某省人民政府办公厅', SITE_ID_CODE: '3500000001', SITE_ICP_RECORD: '闽ICP备00000000号', SITE_HELPLINE: '12345', SITE_HOME_URL: 'https://portal.example.gov.cn/', APP_OPEN_URL: 'https://app.example.gov.cn/open',
  });
});
test.after.always(async () => { await server?.close(); });

test('every citizen page shows who runs the site, its registration numbers, the agreement and the helpline', async (t) => {
  const page = await new HttpBrowser(server.url).get('/register');
  const footer = /<footer class="site">([\s\S]*?)<\/footer>/.exec(page.body)?.[1] ?? '';
  t.regex(footer, /主办单位：某某省人民政府办公厅/);
  t.regex(footer, /网站标识码：3500000001/);
  t.regex(footer, /闽ICP备00000000号/);
  t.regex(footer, /服务热线：12345/);
  t.regex(footer, /href="\/agreement"/);
});

test('an error page offers the way home and the helpline; the sign-out page says what next', async (t) => {
  const browser = new HttpBrowser(server.url);
  const missing = await browser.request('/no-such-page');
  t.is(missing.status, 404);
  const body = await missing.text();
  t.regex(body, /<a class="button" href="https:\/\/portal\.example\.gov\.cn\/" data-next="home">返回首页<\/a>/, 'the way home, as the primary button');
  t.regex(body, /请拨打 12345 政务服务便民热线/);

  const done = await browser.get('/session/end/success');
  t.regex(done.body, /您已安全退出/);
  t.regex(done.body, /<a class="button" href="[^"]+" data-next="home">/);
  t.regex(done.body, /<a href="\/account" data-next="login">重新登录<\/a>/);
});

test('without a site identity configured the footer leaves those lines out and still shows the helpline', async (t) => {
  const plain = await startServer();
  t.teardown(() => plain.close());
  const page = await new HttpBrowser(plain.url).get('/register');
  t.notRegex(page.body, /主办单位|网站标识码/);
  t.regex(page.body, /服务热线：12345/);
});

test('a refused registration step keeps what was typed (never the secrets) and puts the error beside its field', async (t) => {
  const browser = new HttpBrowser(server.url);
  const page = await browser.get('/register');
  const action = /action="(\/register\/[A-Za-z0-9_-]+\/identity)"/.exec(page.body)?.[1] ?? '';
  const refused = await browser.post(action, { csrf: hidden(page.body, 'csrf'), name: '王小明', id_number: '12345' });
  t.is(errorCode(refused.body), 'invalid_id_number');
  t.regex(refused.body, /<input id="name" name="name"[^>]* value="王小明"/);
  t.regex(refused.body, /<input id="id_number" name="id_number"[^>]* value="12345" aria-invalid="true" aria-describedby="id_number-error">/);
  t.regex(refused.body, /<p class="field-error" id="id_number-error" data-field-error="id_number">身份证号码格式或校验位不正确/);

  // A form that fails validation is shown again with the error, not replaced by an error page.
  const again = await browser.post(action, { csrf: hidden(refused.body, 'csrf'), name: '', id_number: '11010519491231002X' });
  t.is(again.response.status, 400);
  t.is(errorCode(again.body), 'invalid_input');
  t.regex(again.body, /value="11010519491231002X"/);
  t.regex(again.body, /data-field-error="name">输入内容不正确：姓名</);

  // A forged post is still refused before its body is looked at.
  const forged = await browser.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=nope&name=x&id_number=1' });
  t.is(forged.status, 403);
});

test('the QR page hands its one-time payload to the government app on a phone when the app\'s link is configured', async (t) => {
  const { browser, uid } = await beginAuthorization(server.url, APP);
  const qr = await browser.get(`/interaction/${uid}/qr`);
  const link = /<a class="button" href="([^"]+)" data-app-open>/.exec(qr.body)?.[1]?.replaceAll('&amp;', '&');
  t.truthy(link);
  const url = new URL(link!);
  t.is(`${url.origin}${url.pathname}`, 'https://app.example.gov.cn/open');
  t.regex(url.searchParams.get('qr') ?? '', /\S{16,}/);

  const plain = await startServer();
  t.teardown(() => plain.close());
  const other = await beginAuthorization(plain.url, APP);
  t.notRegex((await other.browser.get(`/interaction/${other.uid}/qr`)).body, /data-app-open/);
});

test('citizen pages and the staff console each load their own stylesheet, never the other\'s', async (t) => {
  const sheets = (html: string) => [...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]);
  const browser = new HttpBrowser(server.url);
  t.deepEqual(sheets((await browser.get('/register')).body), ['/static/app.css']);
  t.deepEqual(sheets((await browser.get('/agreement')).body), ['/static/app.css']);
  t.deepEqual(sheets((await browser.get('/admin/login')).body), ['/static/console.css']);
  for (const sheet of ['/static/app.css', '/static/console.css']) {
    const response = await fetch(`${server.url}${sheet}`);
    t.is(response.status, 200);
    t.regex(response.headers.get('content-type') ?? '', /text\/css/);
  }
  // The console's rules live in its own sheet only: app.css styles no table and no inline console form.
  const app = await (await fetch(`${server.url}/static/app.css`)).text();
  t.notRegex(app, /(^|\n)\s*(table|th, td|form\.inline)\b/);
});
