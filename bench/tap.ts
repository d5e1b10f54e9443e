/**
 * Counting messages on the wire: a pull "tap" subscription on every source topic receives a copy of everything
 * published there; messages are counted per `sagaId` attribute (and per topic), with their size as Pub/Sub bills it.
 */
import { randomBytes } from 'node:crypto';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { createTapSubscription } from '../emulator/provision';
import { SOURCE_TOPICS } from '../shared/topology';

/**
 * A message's data volume by the Pub/Sub pricing page: the data, every attribute's key and value, 20 bytes for the
 * timestamp, the message id; the ordering key is counted too (an "additional field").
 */
function billedSize(m: Message): number {
  const attrs = Object.entries(m.attributes).reduce(
    (s, [k, v]) => s + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  return m.data.length + attrs + 20 + Buffer.byteLength(m.id) + Buffer.byteLength(m.orderingKey ?? '');
}

export class Tap {
  private readonly perSaga = new Map<string, number>();
  private readonly bytesPerSaga = new Map<string, number>();
  private readonly perTopic = new Map<string, number>();
  private lastAt = Date.now();
  private total = 0;

  private constructor(private readonly subs: Subscription[]) {}

  static async start(pubsub: PubSub): Promise<Tap> {
    const suffix = randomBytes(3).toString('hex');
    const subs = await Promise.all(
      SOURCE_TOPICS.map((topic) => createTapSubscription(topic, `bench-tap-${topic}-${suffix}`, pubsub)),
    );
    const tap = new Tap(subs);
    subs.forEach((sub, i) => {
      const topic = SOURCE_TOPICS[i]!;
      sub.on('message', (m: Message) => {
        m.ack();
        tap.total += 1;
        tap.lastAt = Date.now();
        tap.perTopic.set(topic, (tap.perTopic.get(topic) ?? 0) + 1);
        const sagaId = m.attributes.sagaId;
        if (sagaId) {
          tap.perSaga.set(sagaId, (tap.perSaga.get(sagaId) ?? 0) + 1);
          tap.bytesPerSaga.set(sagaId, (tap.bytesPerSaga.get(sagaId) ?? 0) + billedSize(m));
        }
      });
    });
    return tap;
  }

  /** Messages seen for these sagas. */
  count(sagaIds: Iterable<string>): number {
    let n = 0;
    for (const id of sagaIds) n += this.perSaga.get(id) ?? 0;
    return n;
  }

  /** Summed message sizes (as Pub/Sub bills them, before the per-request minimum) of these sagas' messages. */
  bytes(sagaIds: Iterable<string>): number {
    let n = 0;
    for (const id of sagaIds) n += this.bytesPerSaga.get(id) ?? 0;
    return n;
  }

  topics(): Record<string, number> {
    return Object.fromEntries(this.perTopic);
  }

  /** Waits until no message arrived for `quietMs` (bounded by `maxMs`). */
  async settle(quietMs = 1000, maxMs = 15_000): Promise<void> {
    const until = Date.now() + maxMs;
    while (Date.now() - this.lastAt < quietMs && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private stopped: Promise<void> | undefined;

  /** Closes and deletes the tap subscriptions (idempotent); the counts stay readable. */
  stop(): Promise<void> {
    return (this.stopped ??= this.close());
  }

  private async close(): Promise<void> {
    await Promise.all(
      this.subs.map(async (s) => {
        await s.close();
        await s.delete().catch(() => undefined);
      }),
    );
  }
}
