import type { Migration } from 'kysely';
import * as m0001 from './0001_oidc.js';
import * as m0002 from './0002_identity.js';

/**
 * Every migration in order. A landed migration is never edited: add the next file.
 * Listed statically so that the same code runs from source and from the build.
 */
export const migrations: Record<string, Migration> = {
  '0001_oidc': m0001,
  '0002_identity': m0002,
};
