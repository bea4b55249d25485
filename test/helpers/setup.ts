import { ensurePgliteTemplate } from './pglite-template.js';

/** Run by ava in every test process before its test file is loaded (package.json "ava.require"). */
export default async function setup(): Promise<void> {
  await ensurePgliteTemplate();
}
