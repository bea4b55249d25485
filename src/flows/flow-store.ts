import { randomBytes } from 'node:crypto';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';
import { holderDigest, isHolder } from './holder.js';

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
  /**
   * SHA-256 of the secret its starter holds (see FlowRef.holder). A flow id alone is not a
   * key: it appears in URLs, in browser history and in whatever a person copies and sends.
   */
  holderDigest: string;
}

/**
 * Which flow, on which channel, and the proof of being the one who started it: the
 * browser's binding cookie for anonymous pages, the flow token handed out at the start for
 * the anonymous API, the principal's key (its SSO session, or the grant behind its token)
 * for a flow a signed-in person started, so that another session or another client's
 * token of the same person cannot continue it, and the console session for counter flows
 * (staff/desk-flows.ts). Every flow has one.
 */
export interface FlowRef {
  id: string;
  channel: FlowChannel;
  holder?: string;
}

/** Who starts an anonymous flow: a browser (bound to its binding cookie) or an API client (given a flow token). */
export type FlowStarter = { channel: 'browser'; bind: { holder: string } } | { channel: 'api'; bind: 'new' };

/** A newly started flow, with the holder secret it was bound to (shown to its starter once). */
export type StartedFlow<State extends string, Data> = Flow<State, Data> & { holder: string };

const LOCK_SECONDS = 30;

/** A flow stored without a holder (before every flow had one) is nobody's. */
function holds(flow: Flow<string, unknown>, presented: string | undefined): boolean {
  return typeof flow.holderDigest === 'string' && isHolder(flow.holderDigest, presented);
}

/** Flows carry personal data (ID numbers, names, phones): they are stored encrypted. */
export class FlowStore {
  constructor(private readonly cache: Cache, private readonly cipher: FieldCipher) {}

  private key(type: FlowType, id: string) {
    return `flow:${type}:${id}`;
  }

  private async put(flow: Flow<string, unknown>, ttlSeconds: number): Promise<void> {
    await this.cache.set(this.key(flow.type, flow.id), this.cipher.encrypt(JSON.stringify(flow), `flow:${flow.type}:${flow.id}`), ttlSeconds);
  }

  /**
   * Starts a flow. `bind` ties it to its starter: a browser passes its binding cookie's
   * value, a signed-in person or a console session its key; 'new' makes a fresh secret,
   * returned once as `holder` (the API's flow token).
   */
  async create<State extends string, Data>(
    type: FlowType, channel: FlowChannel, state: State, data: Data, ttlSeconds: number, bind: { holder: string } | 'new',
  ): Promise<StartedFlow<State, Data>> {
    const holder = bind === 'new' ? randomBytes(24).toString('base64url') : bind.holder;
    const flow: Flow<State, Data> = {
      id: randomBytes(18).toString('base64url'),
      type,
      channel,
      state,
      expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds,
      data,
      holderDigest: holderDigest(holder),
    };
    await this.put(flow, ttlSeconds);
    return { ...flow, holder };
  }

  /**
   * A flow continues only on the channel it began on (browser flows need their CSRF token,
   * API flows have none) and only for its holder. Anything else is the answer an unknown
   * flow gets, so a stranger learns nothing from an id they found.
   */
  async get<State extends string, Data>(type: FlowType, at: FlowRef): Promise<Flow<State, Data>> {
    const { id } = at;
    const raw = /^[A-Za-z0-9_-]{16,64}$/.test(id) ? await this.cache.get(this.key(type, id)) : null;
    if (!raw) throw new AppError('flow_expired');
    const flow = JSON.parse(this.cipher.decrypt(raw, `flow:${type}:${id}`)) as Flow<State, Data>;
    if (flow.channel !== at.channel || !holds(flow, at.holder)) throw new AppError('flow_expired');
    return flow;
  }

  /**
   * Runs one step: loads the flow, refuses it unless it is in one of `allowed` states, and
   * saves what the step returns. A second submission while one is running is refused, not
   * queued, so a step can never run twice on the same state.
   */
  async step<State extends string, Data, Result>(
    type: FlowType,
    at: FlowRef,
    allowed: readonly State[],
    run: (flow: Flow<State, Data>) => Promise<{ flow?: Flow<State, Data>; result: Result }>,
  ): Promise<Result> {
    // Checked before the lock too, so that a stranger's request cannot hold the holder's step off.
    await this.get<State, Data>(type, at);
    const lock = `${this.key(type, at.id)}:lock`;
    if (!await this.cache.setIfAbsent(lock, '1', LOCK_SECONDS)) throw new AppError('flow_busy');
    try {
      const flow = await this.get<State, Data>(type, at);
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
