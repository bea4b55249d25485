import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The page templates and static files (`views/` beside package.json), found by walking up
 * from this module: the same from src/ under tsx, from dist/ in production and from the
 * compiled tree the tests run.
 */
function findViews(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('views/: no package.json above this module');
    directory = parent;
  }
  return join(directory, 'views');
}

export const VIEWS_DIR = `${findViews()}/`;
