import type { Migration } from 'kysely';
import * as m0001 from './0001_oidc.js';
import * as m0002 from './0002_identity.js';
import * as m0003 from './0003_enterprises.js';
import * as m0004 from './0004_staff.js';
import * as m0005 from './0005_wechat.js';
import * as m0006 from './0006_federation.js';
import * as m0007 from './0007_delegation.js';
import * as m0008 from './0008_clients.js';
import * as m0009 from './0009_counter_enterprise.js';
import * as m0010 from './0010_application_superseded.js';
import * as m0011 from './0011_refresh_successor.js';
import * as m0012 from './0012_staff_lifecycle.js';
import * as m0013 from './0013_logout_outbox.js';
import * as m0014 from './0014_application_holder.js';

/**
 * Every migration in order. A landed migration is never edited: add the next file.
 * Listed statically so that the same code runs from source and from the build.
 */
export const migrations: Record<string, Migration> = {
  '0001_oidc': m0001,
  '0002_identity': m0002,
  '0003_enterprises': m0003,
  '0004_staff': m0004,
  '0005_wechat': m0005,
  '0006_federation': m0006,
  '0007_delegation': m0007,
  '0008_clients': m0008,
  '0009_counter_enterprise': m0009,
  '0010_application_superseded': m0010,
  '0011_refresh_successor': m0011,
  '0012_staff_lifecycle': m0012,
  '0013_logout_outbox': m0013,
  '0014_application_holder': m0014,
};
