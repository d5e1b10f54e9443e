/**
 * Redrive (the operator CLI's `dlq redrive` and the console's): republishes a recorded dead letter's original data and attributes to its source topic, with its ordering
 * key, and marks the record redriven. Consumers deduplicate on the application message id, so a redrive of a message
 * that was in fact processed changes nothing. `--all` redrives every record not redriven yet — all of them, page
 * after page, oldest first (however many a storm left); a single id already redriven needs --force.
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { Position } from './store/cursor';
import type { DeadLetter, DeadLetterStore } from './store/dead-letters';
import { extractContext, inSpan, SpanKind, traceAttributes } from './telemetry/tracing';

export interface RedriveResult {
  id: string;
  result: 'redriven' | 'already-redriven' | 'not-found' | 'unknown-topic' | 'data-truncated';
  detail?: string;
}

export interface RedriveOptions {
  /** The deployment's source topics (topology.sourceTopics): a record naming any other topic is not redriven. */
  sourceTopics: readonly string[];
  /** Records read per query by `--all` (default 200). */
  pageSize?: number;
  now?: () => number;
}

export async function redrive(
  store: DeadLetterStore,
  pubsub: PubSub,
  what: { all: true } | { id: string; force: boolean },
  opts: RedriveOptions,
): Promise<RedriveResult[]> {
  const topics = new Map<string, Topic>();
  const results: RedriveResult[] = [];
  if (!('all' in what)) {
    const dl = await store.get(what.id);
    if (!dl) return [{ id: what.id, result: 'not-found' }];
    if (dl.redrivenAt !== null && !what.force) {
      return [
        { id: dl.id, result: 'already-redriven', detail: `at ${dl.redrivenAt}; --force to redrive again` },
      ];
    }
    results.push(await redriveOne(store, pubsub, topics, opts.sourceTopics, dl));
    return results;
  }
  // Only what was recorded before this run started: a redriven message dead-lettered again while the run goes on
  // is a new record, left for the next run instead of looping.
  const upTo = (opts.now ?? Date.now)();
  const pageSize = opts.pageSize ?? 200;
  let after: Position | null = null;
  for (;;) {
    const page = await store.notRedriven({ limit: pageSize, upTo, after });
    for (const dl of page.items) results.push(await redriveOne(store, pubsub, topics, opts.sourceTopics, dl));
    // Records that could not be redriven (unknown topic, truncated) stay not redriven: the cursor moves past them.
    if (page.items.length < pageSize || page.last === null) return results;
    after = page.last;
  }
}

async function redriveOne(
  store: DeadLetterStore,
  pubsub: PubSub,
  topics: Map<string, Topic>,
  sourceTopics: readonly string[],
  dl: DeadLetter,
): Promise<RedriveResult> {
  if (!sourceTopics.includes(dl.sourceTopic)) {
    return { id: dl.id, result: 'unknown-topic', detail: dl.sourceTopic };
  }
  if (dl.dataTruncated) {
    return { id: dl.id, result: 'data-truncated', detail: 'the record does not hold the whole message' };
  }
  // The original message, exactly: its bytes and (when the record had to sanitize them) its attributes.
  const original = dl.attributesJson
    ? (JSON.parse(dl.attributesJson) as Record<string, string>)
    : dl.attributes;
  const attributes = Object.fromEntries(
    Object.entries(original).filter(([k]) => !k.startsWith('CloudPubSubDeadLetter')),
  );
  // With its ordering key: a redriven command waits its turn behind its customer's / SKU's other commands.
  const orderingKey = dl.orderingKey ?? original.orderingKey ?? null;
  let topic = topics.get(dl.sourceTopic);
  if (!topic) {
    topic = pubsub.topic(dl.sourceTopic, { messageOrdering: true });
    topics.set(dl.sourceTopic, topic);
  }
  const target = topic;
  // In the trace the message carries (its saga's): the redriven message carries this span's context instead, so
  // its consumer's span hangs under the redrive (without tracing the attributes are exactly the recorded ones).
  await inSpan(
    `redrive ${dl.sourceTopic}`,
    {
      kind: SpanKind.PRODUCER,
      parent: extractContext(attributes),
      attributes: {
        'messaging.system': 'gcp_pubsub',
        'messaging.destination.name': dl.sourceTopic,
        'saga.dead_letter_id': dl.id,
        ...(attributes.sagaId ? { 'saga.id': attributes.sagaId } : {}),
      },
    },
    async () => {
      try {
        await target.publishMessage({
          data: dl.dataBase64 !== null ? Buffer.from(dl.dataBase64, 'base64') : Buffer.from(dl.data, 'utf8'),
          attributes: {
            ...attributes,
            ...traceAttributes(),
            ...(orderingKey ? { orderingKey } : {}),
            redrivenFrom: dl.id,
          },
          ...(orderingKey ? { orderingKey } : {}),
        });
      } catch (err) {
        if (orderingKey) target.resumePublishing(orderingKey);
        throw err;
      }
    },
  );
  await store.markRedriven(dl.id);
  return { id: dl.id, result: 'redriven', detail: dl.sourceTopic };
}
