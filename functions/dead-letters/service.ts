/**
 * Records everything that reaches a `*-dlq` topic. The source topic comes from the dead-letter attributes
 * (CloudPubSubDeadLetterSourceSubscription) or, failing that, from the dead-letter topic's name.
 */
import { DLQ_SUFFIX, SUBSCRIPTIONS } from '../../shared/topology';
import type { PushMessage } from '../../shared/push';
import type { DeadLetterStore } from '../../shared/store/dead-letters';

export function sourceTopicOf(push: PushMessage): string {
  const fromAttr = push.attributes.CloudPubSubDeadLetterSourceSubscription;
  if (fromAttr) {
    const shortName = fromAttr.split('/').pop()!;
    const spec = SUBSCRIPTIONS.find((s) => s.name === shortName);
    if (spec) return spec.topic;
  }
  const sub = push.subscription?.split('/').pop();
  const spec = SUBSCRIPTIONS.find((s) => s.name === sub);
  if (spec?.topic.endsWith(DLQ_SUFFIX)) return spec.topic.slice(0, -DLQ_SUFFIX.length);
  return spec?.topic ?? 'unknown';
}

export async function recordDeadLetter(store: DeadLetterStore, push: PushMessage): Promise<string> {
  const count = Number(push.attributes.CloudPubSubDeadLetterSourceDeliveryCount);
  return store.record({
    sourceTopic: sourceTopicOf(push),
    subscription: push.attributes.CloudPubSubDeadLetterSourceSubscription ?? push.subscription,
    data: push.text,
    attributes: push.attributes,
    deliveryCount: Number.isFinite(count) ? count : push.deliveryAttempt,
    reason: 'MAX_DELIVERY_ATTEMPTS',
    detail: 'delivery attempts exhausted',
    dedupeKey: push.pubsubMessageId ?? push.text,
  });
}
