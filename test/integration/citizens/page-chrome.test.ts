import test from 'ava';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * What every citizen page carries and where each journey's end leads: the site's footer
 * (主办单位, 网站标识码, 备案号, the helpline, the agreement), and a way on from an error
 * page or the sign-out page instead of a dead end.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({
    SITE_OPERATOR: '某某省人民政府办公厅', SITE_ID_CODE: '3500000001', SITE_ICP_RECORD: '闽ICP备00000000号', SITE_HELPLINE: '12345', SITE_HOME_URL: 'https://portal.example.gov.cn/',
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
  t.regex(body, /<a href="https:\/\/portal\.example\.gov\.cn\/" data-next="home">返回首页<\/a>/);
  t.regex(body, /请拨打 12345 政务服务便民热线/);

  const done = await browser.get('/session/end/success');
  t.regex(done.body, /您已安全退出/);
  t.regex(done.body, /data-next="home"/);
  t.regex(done.body, /<a href="\/account" data-next="login">重新登录<\/a>/);
});

test('without a site identity configured the footer leaves those lines out and still shows the helpline', async (t) => {
  const plain = await startServer();
  t.teardown(() => plain.close());
  const page = await new HttpBrowser(plain.url).get('/register');
  t.notRegex(page.body, /主办单位|网站标识码/);
  t.regex(page.body, /服务热线：12345/);
});
