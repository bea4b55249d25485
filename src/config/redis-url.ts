/**
 * REDIS_URL in its three forms, one per Redis topology:
 *
 *   redis://[user:password@]host:6379[/db]                      one server (rediss:// for TLS)
 *   redis+cluster://[user:password@]h1:7000,h2:7001,h3:7002     Redis Cluster: any reachable nodes; the rest are discovered
 *   redis+sentinel://[user:password@]s1:26379,s2:26379/mymaster[?db=0&sentinel_username=…&sentinel_password=…]
 *                                                               Redis Sentinel: the sentinels and the name of the master they watch
 *
 * `rediss+cluster://` and `rediss+sentinel://` speak TLS to every node (and sentinel).
 * The user and password are those of the data nodes; sentinels that need their own say so
 * in the query.
 */

export interface RedisAddress {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | ({ mode: 'cluster'; nodes: RedisAddress[]; tls: boolean } & Credentials)
  | ({
    mode: 'sentinel'; sentinels: RedisAddress[]; name: string; tls: boolean; db: number;
    sentinelUsername?: string; sentinelPassword?: string;
  } & Credentials);

export class RedisUrlError extends Error {}

const FORM = /^(rediss?)(\+cluster|\+sentinel)?:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/;

/** `host:port`, `[v6]:port` or a bare host; the port falls back to `defaultPort`. */
function parseAddress(text: string, defaultPort: number): RedisAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (!match || port < 1 || port > 65535) throw new RedisUrlError(`"${text}" is not a host:port`);
  return { host: (match[1] ?? match[2])!, port };
}

function parseCredentials(userinfo: string | undefined): Credentials {
  if (!userinfo) return {};
  const separator = userinfo.indexOf(':');
  const username = decodeURIComponent(separator < 0 ? userinfo : userinfo.slice(0, separator));
  const password = separator < 0 ? undefined : decodeURIComponent(userinfo.slice(separator + 1));
  // redis://:secret@host is a password without a user, as redis-cli and ioredis read it.
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

export function parseRedisUrl(url: string): RedisTarget {
  const match = FORM.exec(url);
  if (!match) throw new RedisUrlError('must be redis://, rediss://, redis+cluster:// or redis+sentinel:// followed by host:port');
  const [, scheme, topology, userinfo, hostList = '', path = '', query = ''] = match;
  const tls = scheme === 'rediss';
  const hosts = hostList.split(',').map((host) => host.trim());
  if (hosts.some((host) => host === '')) throw new RedisUrlError('names no host, or has an empty one in its list');

  if (!topology) {
    if (hosts.length > 1) throw new RedisUrlError('a plain redis:// URL names one server; use redis+cluster:// or redis+sentinel:// for several');
    parseAddress(hosts[0]!, 6379);
    return { mode: 'standalone', url };
  }

  const credentials = parseCredentials(userinfo);
  const params = new URLSearchParams(query);
  if (topology === '+cluster') {
    if (path !== '' && path !== '/' && path !== '/0') throw new RedisUrlError('Redis Cluster has only database 0: the URL has no path');
    if (params.size > 0) throw new RedisUrlError(`unknown parameter "${[...params.keys()][0]}" for redis+cluster://`);
    return { mode: 'cluster', nodes: hosts.map((host) => parseAddress(host, 6379)), tls, ...credentials };
  }

  const name = decodeURIComponent(path.replace(/^\//, ''));
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new RedisUrlError('redis+sentinel:// needs the master\'s name as its path: redis+sentinel://s1:26379,s2:26379/mymaster');
  for (const key of params.keys()) {
    if (!['db', 'sentinel_username', 'sentinel_password'].includes(key)) throw new RedisUrlError(`unknown parameter "${key}" for redis+sentinel://`);
  }
  const db = params.get('db') ?? '0';
  if (!/^\d{1,2}$/.test(db)) throw new RedisUrlError('db must be a database number');
  const sentinelUsername = params.get('sentinel_username');
  const sentinelPassword = params.get('sentinel_password');
  return {
    mode: 'sentinel',
    sentinels: hosts.map((host) => parseAddress(host, 26379)),
    name,
    tls,
    db: Number(db),
    ...credentials,
    ...(sentinelUsername ? { sentinelUsername } : {}),
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}

