import { randomBytes } from 'node:crypto';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';

export type FlowType = 'registration' | 'recovery' | 'rebind' | 'counter' | 'counter-phone' | 'counter-enterprise';
export type FlowChannel = 'browser' | 'api';

/**
 * A multi-step self-service process as a persisted object (in the style of Ory Kratos):
 * it has an id, a channel, a state, an expiry and its collected data. Each step checks
 * the state before acting and moves it forward, so a replayed or out-of-order step fails.
 */
export interface Flow<State extends string, Data> {
  id: string;
  type: FlowType;
  channel: FlowChannel;
  state: State;
  expiresAt: number;
  data: Data;
}

const LOCK_SECONDS = 30;

/** Flows carry personal data (ID numbers, names, phones): they are stored encrypted. */
export class FlowStore {
  constructor(private readonly cache: Cache, private readonly cipher: FieldCipher) {}

  private key(type: FlowType, id: string) {
    return `flow:${type}:${id}`;
  }

  private async put(flow: Flow<string, unknown>, ttlSeconds: number): Promise<void> {
    await this.cache.set(this.key(flow.type, flow.id), this.cipher.encrypt(JSON.stringify(flow), `flow:${flow.type}:${flow.id}`), ttlSeconds);
  }

  async create<State extends string, Data>(type: FlowType, channel: FlowChannel, state: State, data: Data, ttlSeconds: number): Promise<Flow<State, Data>> {
    const flow: Flow<State, Data> = {
      id: randomBytes(18).toString('base64url'),
      type,
      channel,
      state,
      expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds,
      data,
    };
    await this.put(flow, ttlSeconds);
    return flow;
  }

  /** A flow continues only on the channel it began on: browser flows need their CSRF token, API flows have none. */
  async get<State extends string, Data>(type: FlowType, id: string, channel: FlowChannel): Promise<Flow<State, Data>> {
    const raw = /^[A-Za-z0-9_-]{16,64}$/.test(id) ? await this.cache.get(this.key(type, id)) : null;
    if (!raw) throw new AppError('flow_expired');
    const flow = JSON.parse(this.cipher.decrypt(raw, `flow:${type}:${id}`)) as Flow<State, Data>;
    if (flow.channel !== channel) throw new AppError('flow_expired');
    return flow;
  }

  /**
   * Runs one step: loads the flow, refuses it unless it is in one of `allowed` states, and
   * saves what the step returns. A second submission while one is running is refused, not
   * queued, so a step can never run twice on the same state.
   */
  async step<State extends string, Data, Result>(
    type: FlowType,
    id: string,
    channel: FlowChannel,
    allowed: readonly State[],
    run: (flow: Flow<State, Data>) => Promise<{ flow?: Flow<State, Data>; result: Result }>,
  ): Promise<Result> {
    const lock = `${this.key(type, id)}:lock`;
    if (!await this.cache.setIfAbsent(lock, '1', LOCK_SECONDS)) throw new AppError('flow_busy');
    try {
      const flow = await this.get<State, Data>(type, id, channel);
      if (!allowed.includes(flow.state)) throw new AppError('flow_step_invalid');
      const outcome = await run(flow);
      const remaining = flow.expiresAt - Math.floor(Date.now() / 1000);
      if (outcome.flow && remaining > 0) await this.put(outcome.flow, remaining);
      return outcome.result;
    } finally {
      await this.cache.delete(lock);
    }
  }
}
