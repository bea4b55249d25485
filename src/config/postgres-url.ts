/**
 * DATABASE_URL with one host, or several as libpq writes them:
 *
 *   postgres://user:pass@db1:5432,db2:5432,db3:5432/civic?sslmode=require
 *
 * node-postgres connects to one host only, so the list is split here into one connection
 * string per host (same user, database and parameters), tried in order by store/db.ts.
 * `target_session_attrs` says what a host must be to be used: `read-write` or `primary`
 * (the default, and the only choice, with several hosts: we write) or `any` (one host).
 */

export type SessionAttributes = 'any' | 'read-write' | 'primary';

export interface PostgresTarget {
  /** One connection string per host, in the order given. */
  hosts: Array<{ label: string; url: string }>;
  /** Refuse a host that is a standby (in recovery) or read-only. */
  requirePrimary: boolean;
}

export class PostgresUrlError extends Error {}

const FORM = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/;

export function parsePostgresUrl(url: string): PostgresTarget {
  const match = FORM.exec(url);
  if (!match) throw new PostgresUrlError('must be a postgres:// or postgresql:// URL');
  const [, scheme, userinfo, hostList = '', rest = ''] = match;
  const hosts = hostList.split(',').map((host) => host.trim());
  if (hosts.length > 1 && hosts.some((host) => !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host))) {
    throw new PostgresUrlError('each host of the list must be host or host:port');
  }

  // The parameter is ours, not the server's: take it off the URLs the driver sees.
  const queryStart = rest.indexOf('?');
  const params = new URLSearchParams(queryStart < 0 ? '' : rest.slice(queryStart + 1));
  const attributes = params.get('target_session_attrs') ?? (hosts.length > 1 ? 'read-write' : 'any');
  if (!['any', 'read-write', 'primary'].includes(attributes)) throw new PostgresUrlError('target_session_attrs must be any, read-write or primary');
  if (hosts.length > 1 && attributes === 'any') throw new PostgresUrlError('with several hosts, target_session_attrs must be read-write or primary: the provider writes');
  let tail = rest;
  if (params.has('target_session_attrs')) {
    params.delete('target_session_attrs');
    tail = rest.slice(0, queryStart) + (params.size > 0 ? `?${params.toString()}` : '');
  }

  return {
    hosts: hosts.map((host) => ({ label: host, url: `${scheme}${userinfo === undefined ? '' : `${userinfo}@`}${host}${tail}` })),
    requirePrimary: attributes !== 'any',
  };
}
