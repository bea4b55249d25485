import type { BlockList } from 'node:net';
import type { Middleware } from 'koa';
import { inNetworks } from '../../config/networks.js';
import { AppError } from '../../errors.js';

/** What only staff use: the console's pages and API, and the metrics. */
export function isStaffPath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/') || path === '/api/v1/admin' || path.startsWith('/api/v1/admin/') || path === '/metrics';
}

/** What the staff listener serves besides staff paths: the console's stylesheet and the probes. */
function alsoOnStaffListener(path: string): boolean {
  return path.startsWith('/static/') || path === '/healthz' || path === '/readyz';
}

export interface StaffSurfaceOptions {
  /** When set, staff paths answer only on this port, and this port answers nothing else. */
  adminPort?: number;
  /** When set, staff paths answer only to these networks. */
  allowedNetworks?: BlockList;
}

/**
 * Where the console can be reached (GB/T 22239 8.1.4: management from designated
 * networks). With a staff listener, the console, its API and /metrics are not on the
 * identity provider's public port at all, and the staff port serves nothing a citizen
 * uses; with allowed networks, a request from anywhere else is answered as a page that does
 * not exist, before any handler, so a stranger can neither probe the console nor lock a
 * member out with wrong passwords.
 *
 * The address judged is what the public listener believes (TRUST_PROXY_HOPS) there, and on
 * the staff listener the connection's own peer: no proxy is assumed in front of it, so an
 * X-Forwarded-For sent to it chooses nothing.
 */
export function staffSurface(options: StaffSurfaceOptions): Middleware {
  return async (ctx, next) => {
    const staffPath = isStaffPath(ctx.path);
    const onStaffListener = options.adminPort !== undefined && ctx.req.socket.localPort === options.adminPort;
    if (options.adminPort !== undefined && staffPath !== onStaffListener && !(onStaffListener && alsoOnStaffListener(ctx.path))) {
      throw new AppError('not_found');
    }
    if (staffPath && options.allowedNetworks) {
      const address = onStaffListener ? ctx.req.socket.remoteAddress ?? '' : ctx.ip;
      if (!inNetworks(options.allowedNetworks, address)) {
        ctx.state.log?.info({ route: 'staff', reason: 'network' }, 'staff path refused outside the allowed networks');
        throw new AppError('not_found');
      }
    }
    await next();
  };
}
