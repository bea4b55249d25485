import { readFile } from 'node:fs/promises';
import Router from '@koa/router';
import { VIEWS_DIR } from './views-dir.js';

const STATIC_DIR = `${VIEWS_DIR}static/`;
const FILES: Record<string, string> = {
  'app.css': 'text/css; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'qr-login.js': 'text/javascript; charset=utf-8',
  'logout.js': 'text/javascript; charset=utf-8',
  'forms.js': 'text/javascript; charset=utf-8',
  'scan-digest.js': 'text/javascript; charset=utf-8',
};

/** The few static assets the pages use, read once and served with a long cache. */
export async function staticRoutes(): Promise<Router> {
  const router = new Router({ prefix: '/static' });
  const contents = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) contents.set(name, await readFile(STATIC_DIR + name));
  router.get('/:name', (ctx) => {
    const body = contents.get(ctx.params.name!);
    if (!body) return;
    ctx.type = FILES[ctx.params.name!]!;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  });
  return router;
}
