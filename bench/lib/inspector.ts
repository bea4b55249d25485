/**
 * A few words with a child's V8 inspector (the server runs with --inspect=127.0.0.1:0 when
 * the memory figure is wanted): force a full garbage collection and read the heap, so the
 * memory figure tells what is retained from what is merely not yet collected.
 */
export interface HeapUsage {
  used_bytes: number;
  total_bytes: number;
}

export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

export async function collectGarbage(url: string): Promise<HeapUsage> {
  const Socket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!Socket) throw new Error('this Node has no WebSocket client (Node 22 or newer needed)');
  const ws = new Socket(url);
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector ${url} refused the connection`)), { once: true });
  });
  const call = (method: string) => new Promise<unknown>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => reject(new Error(`inspector: ${method} timed out`)), 30_000);
    pending.set(id, (result) => {
      clearTimeout(timer);
      resolve(result);
    });
    ws.send(JSON.stringify({ id, method }));
  });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage') as { usedSize: number; totalSize: number };
    return { used_bytes: usage.usedSize, total_bytes: usage.totalSize };
  } finally {
    ws.close();
  }
}
