import { isIP } from 'node:net';

/**
 * What per-address limits count by. An IPv4 address is one subscriber (an IPv4-mapped IPv6
 * address is that IPv4 address); an IPv6 subscriber is handed a whole /64 (RFC 6177), and
 * counting its addresses one by one would give every caller endless fresh allowances, so
 * IPv6 counts by its /64.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(mapped) === 4) return mapped;
  if (isIP(ip) !== 6) return 'unknown';
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
