import { connect, createServer, type Socket } from 'node:net';

export interface SlowProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free port to 127.0.0.1:`targetPort` that holds every new connection's
 * traffic for `delayMs` before passing it on: whatever a client asks through it first is
 * answered that much later, as over a slow or busy network.
 */
export async function startSlowProxy(targetPort: number, delayMs: number): Promise<SlowProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.pause();
    const timer = setTimeout(() => {
      const upstream = connect(targetPort, '127.0.0.1');
      sockets.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', end).on('close', end);
      client.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
      client.resume();
    }, delayMs);
    client.on('close', () => {
      clearTimeout(timer);
      sockets.delete(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
