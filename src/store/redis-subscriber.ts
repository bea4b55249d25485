import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisAddress } from '../config/redis-url.js';
import { reconnectWhenEnded } from './redis-connection.js';

/** What a subscriber connection reports: a message on a channel, or that some may have been missed. */
export interface SubscriberEvents {
  message(channel: string, message: string): void;
  gap(): void;
}

/** The connection a cache's broadcasts arrive on. `subscribe` resolves once the channel is listened to. */
export interface Subscriber {
  subscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * One server or a Sentinel-watched master: a duplicate of the data connection in
 * subscriber mode. It waits out an outage, and ioredis renews the subscription when Redis
 * returns (through the sentinels, to whichever master they name then).
 */
export function followingSubscriber(data: Redis, connectionName: string, events: SubscriberEvents): Subscriber {
  const subscriber = data.duplicate({
    keyPrefix: '',
    enableAutoPipelining: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: true,
    // With Sentinel it watches for a failover too (the duplicate keeps failoverDetector): on
    // a demoted master it would go on hearing what replication brings, minus whatever the
    // resynchronisation skipped, and never know; reconnecting to the new master says so.
    connectionName,
  });
  subscriber.on('error', () => {});
  const revival = reconnectWhenEnded(subscriber);
  subscriber.on('message', (channel: string, message: string) => events.message(channel, message));
  // What was published while the connection was down is lost.
  let connectedBefore = false;
  subscriber.on('ready', () => {
    if (connectedBefore) events.gap();
    connectedBefore = true;
  });
  return {
    async subscribe(channel) {
      await subscriber.subscribe(channel);
    },
    async close() {
      revival.stop();
      await subscriber.quit().catch(() => undefined);
      subscriber.disconnect();
    },
  };
}

/**
 * A broadcast on a cluster is published on every master (so that every subscriber hears
 * it before the publisher goes on) and reaches each subscriber more than once: the copy
 * from its own node, and those the cluster bus relays. Each carries one id, and a
 * subscriber lets through the first copy of an id only.
 */
export const clusterEnvelope = {
  wrap(message: string): string {
    return `${randomUUID()} ${message}`;
  },
  /** The ids heard lately (copies arrive within milliseconds of each other). */
  opener(remember = 1000): (envelope: string) => string | undefined {
    const heard = new Set<string>();
    return (envelope) => {
      const space = envelope.indexOf(' ');
      if (space < 0) return envelope;
      const id = envelope.slice(0, space);
      if (heard.has(id)) return undefined;
      heard.add(id);
      if (heard.size > remember) heard.delete(heard.values().next().value!);
      return envelope.slice(space + 1);
    };
  },
};

/**
 * Redis Cluster: a PUBLISH on any node reaches the subscribers of every node, so one plain
 * connection to one node hears everything. When that node goes away (restarted, failed
 * over, removed) the subscription moves to the next node the cluster knows, and the
 * listeners are told they may have missed messages. ioredis' own cluster subscriber does
 * not say so, and gives up on a subscription that fails to renew.
 */
export class RotatingSubscriber implements Subscriber {
  private readonly channels = new Set<string>();
  private connection: Redis | undefined;
  private ready = false;
  /** A subscription was lost; the next one to be renewed reports a gap. */
  private lost = false;
  private closed = false;
  private turn = 0;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private waiting: Array<() => void> = [];
  /** One delivery per broadcast, across the connections this subscriber moves through. */
  private readonly unwrap = clusterEnvelope.opener();

  constructor(
    private readonly addresses: () => RedisAddress[],
    private readonly options: RedisOptions,
    private readonly events: SubscriberEvents,
  ) {
    this.open();
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
    if (!this.ready) await new Promise<void>((resolve) => this.waiting.push(resolve));
    // Should this fail, the connection is being replaced, and its successor listens to
    // every channel of the set and reports a gap.
    await this.connection?.subscribe(channel).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const connection = this.connection;
    this.connection = undefined;
    for (const resolve of this.waiting.splice(0)) resolve();
    await connection?.quit().catch(() => connection.disconnect());
  }

  private open(): void {
    if (this.closed) return;
    const list = this.addresses();
    const address = list[this.turn % list.length]!;
    this.turn += 1;
    const connection = new Redis({
      ...this.options,
      host: address.host,
      port: address.port,
      lazyConnect: true,
      // This class chooses where to reconnect, and subscribes again itself.
      retryStrategy: () => null,
      autoResubscribe: false,
      enableOfflineQueue: true,
    });
    connection.on('error', () => {});
    connection.on('message', (channel: string, envelope: string) => {
      const message = this.unwrap(envelope);
      if (message !== undefined) this.events.message(channel, message);
    });
    connection.once('end', () => this.dropped(connection));
    this.connection = connection;
    connection.connect()
      .then(() => (this.channels.size > 0 ? connection.subscribe(...this.channels) : undefined))
      .then(() => {
        if (this.connection !== connection) return;
        this.ready = true;
        this.failures = 0;
        if (this.lost) {
          this.lost = false;
          this.events.gap();
        }
        for (const resolve of this.waiting.splice(0)) resolve();
      }, () => connection.disconnect());
  }

  private dropped(connection: Redis): void {
    if (this.connection !== connection) return;
    if (this.ready) this.lost = true;
    this.ready = false;
    this.connection = undefined;
    if (this.closed) return;
    // The next node at once; then more slowly while none answers.
    const delay = Math.min(50 * 2 ** this.failures, 2_000);
    this.failures += 1;
    this.retry = setTimeout(() => this.open(), delay);
    this.retry.unref();
  }
}
