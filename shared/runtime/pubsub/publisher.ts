/**
 * Publishing behind a small interface. The Pub/Sub implementation enables message ordering (replies carry the
 * saga id as ordering key) and resumes an ordering key after a failed publish so later messages are not stuck.
 */
import { PubSub, type Topic } from '@google-cloud/pubsub';
import { TransientError } from '../errors';
import type { OutgoingMessage } from '../messages';
import { inSpan, SpanKind } from '../telemetry/tracing';

/** What a publish span says about its message (OpenTelemetry's messaging conventions, plus the saga's ids). */
export function publishAttributes(m: OutgoingMessage): Record<string, string> {
  return {
    'messaging.system': 'gcp_pubsub',
    'messaging.destination.name': m.topic,
    'messaging.operation.type': 'send',
    'saga.message_id': m.id,
    ...(m.attributes.sagaId ? { 'saga.id': m.attributes.sagaId } : {}),
  };
}

export interface Publisher {
  /** Publishes every message; resolves when all are accepted by Pub/Sub. Throws TransientError otherwise. */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export class PubSubPublisher implements Publisher {
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly client: PubSub) {}

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = this.client.topic(name, {
        messageOrdering: true,
        // Low latency over batching: a saga step publishes one message at a time.
        batching: { maxMessages: 100, maxMilliseconds: 1 },
      });
      this.topics.set(name, t);
    }
    return t;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const results = await Promise.allSettled(
      messages.map((m) =>
        inSpan(
          `${m.topic} publish`,
          { kind: SpanKind.PRODUCER, attributes: publishAttributes(m) },
          async () => {
            const topic = this.topic(m.topic);
            const data = Buffer.from(JSON.stringify(m.data));
            try {
              await topic.publishMessage({
                data,
                attributes: m.attributes,
                ...(m.orderingKey ? { orderingKey: m.orderingKey } : {}),
              });
            } catch (err) {
              if (m.orderingKey) topic.resumePublishing(m.orderingKey);
              throw err;
            }
          },
        ),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed)
      throw new TransientError(`publish failed: ${String(failed.reason)}`, { cause: failed.reason });
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.flush()));
    await this.client.close();
  }
}

let shared: PubSubPublisher | undefined;

export function pubsubPublisher(projectId: string): Publisher {
  if (!shared) shared = new PubSubPublisher(new PubSub({ projectId }));
  return shared;
}
