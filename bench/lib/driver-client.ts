import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverReply, RunRequest, RunResult, SinkRequest } from './protocol.js';

const DRIVER = fileURLToPath(new URL('../driver/main.ts', import.meta.url));

/** The load driver in its own process; one scenario at a time. */
export class Driver {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(result: RunResult): void; reject(error: Error): void; onMark?: (phase: 'start' | 'end') => void }>();
  private exited = false;

  constructor() {
    this.child = fork(DRIVER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (reply: DriverReply) => {
      if (reply.type === 'sink-ready') {
        this.sinkReady.get(reply.id)?.(reply.port);
        this.sinkReady.delete(reply.id);
        return;
      }
      const pending = this.waiting.get(reply.id);
      if (!pending) return;
      if (reply.type === 'mark') {
        pending.onMark?.(reply.phase);
        return;
      }
      this.waiting.delete(reply.id);
      if (reply.type === 'result') pending.resolve(reply);
      else pending.reject(new Error(`driver: ${reply.message}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const pending of this.waiting.values()) pending.reject(new Error(`driver exited (${signal ?? code})`));
      this.waiting.clear();
    });
  }

  private readonly sinkReady = new Map<number, (port: number) => void>();

  /** Opens the bench's SMS gateway inside the driver; resolves with its port. */
  openSmsGateway(): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.sinkReady.set(id, resolve);
      this.child.send({ type: 'sink', id } satisfies SinkRequest);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Runs one scenario; `onMark` is called as its measured window opens and closes. */
  run(request: Omit<RunRequest, 'type' | 'id'>, onMark?: (phase: 'start' | 'end') => void): Promise<RunResult> {
    if (this.exited) return Promise.reject(new Error('driver is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, onMark });
      this.child.send({ type: 'run', id, ...request } satisfies RunRequest);
    });
  }

  /** Ends the scenario under way early (Ctrl-C); its figures still come back. */
  interrupt(): void {
    if (!this.exited && this.child.connected) this.child.send({ type: 'stop' });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(timer);
  }
}
