/**
 * Redrive: republishes a recorded dead letter's original data and attributes to its source topic and marks the
 * record redriven. Consumers deduplicate on the application message id, so a redrive of a message that was in
 * fact processed changes nothing. `--all` redrives only records not redriven yet; a single id already redriven
 * needs --force.
 */
import type { PubSub } from '@google-cloud/pubsub';
import type { DeadLetterStore } from '../shared/store/dead-letters';
import { SOURCE_TOPICS } from '../shared/topology';

export interface RedriveResult {
  id: string;
  result: 'redriven' | 'already-redriven' | 'not-found' | 'unknown-topic';
  detail?: string;
}

export async function redrive(
  store: DeadLetterStore,
  pubsub: PubSub,
  what: { all: true } | { id: string; force: boolean },
): Promise<RedriveResult[]> {
  const targets =
    'all' in what
      ? (await store.list(1000)).filter((d) => d.redrivenAt === null)
      : [await store.get(what.id)];
  if (!('all' in what) && targets[0] === null) return [{ id: what.id, result: 'not-found' }];
  const results: RedriveResult[] = [];
  for (const dl of targets) {
    if (!dl) continue;
    if (!('all' in what) && dl.redrivenAt !== null && !what.force) {
      results.push({
        id: dl.id,
        result: 'already-redriven',
        detail: `at ${dl.redrivenAt}; --force to redrive again`,
      });
      continue;
    }
    if (!(SOURCE_TOPICS as readonly string[]).includes(dl.sourceTopic)) {
      results.push({ id: dl.id, result: 'unknown-topic', detail: dl.sourceTopic });
      continue;
    }
    const attributes = Object.fromEntries(
      Object.entries(dl.attributes).filter(([k]) => !k.startsWith('CloudPubSubDeadLetter')),
    );
    await pubsub.topic(dl.sourceTopic).publishMessage({
      data: Buffer.from(dl.data, 'utf8'),
      attributes: { ...attributes, redrivenFrom: dl.id },
    });
    await store.markRedriven(dl.id);
    results.push({ id: dl.id, result: 'redriven', detail: dl.sourceTopic });
  }
  return results;
}
