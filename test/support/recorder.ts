/** Records every message published to a set of topics (pull "tap" subscriptions), for replays and counting. */
import { randomBytes } from 'node:crypto';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';

export interface RecordedMessage {
  topic: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string | undefined;
}

export class Recorder {
  private readonly subs: Subscription[] = [];
  readonly messages: RecordedMessage[] = [];

  private constructor(readonly pubsub: PubSub) {}

  static async start(projectId: string, topics: readonly string[]): Promise<Recorder> {
    const r = new Recorder(new PubSub({ projectId }));
    for (const topic of topics) {
      const [sub] = await r.pubsub
        .topic(topic)
        .createSubscription(`rec-${topic}-${randomBytes(3).toString('hex')}`);
      sub.on('message', (m: Message) => {
        r.messages.push({
          topic,
          data: m.data,
          attributes: { ...m.attributes },
          orderingKey: m.orderingKey || undefined,
        });
        m.ack();
      });
      r.subs.push(sub);
    }
    return r;
  }

  /** Publishes raw data to a topic (poison messages, replays). */
  async publish(
    topic: string,
    data: Buffer | string,
    attributes: Record<string, string> = {},
  ): Promise<void> {
    await this.pubsub
      .topic(topic)
      .publishMessage({ data: Buffer.isBuffer(data) ? data : Buffer.from(data), attributes });
  }

  async stop(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.close()));
    await this.pubsub.close();
  }
}
