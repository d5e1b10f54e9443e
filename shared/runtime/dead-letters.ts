/**
 * Records everything that reaches a `*-dlq` topic, with the source topic of the dead-letter subscription that
 * delivered it.
 *
 * A dead-lettered saga command ends its step at once (contract §6): the orchestrator times it out exactly as the
 * sweeper would at its deadline (same event id, so at most one of them applies; redeliveries, redrives and
 * replays of the dead letter find the timeout already recorded and change nothing).
 *
 * A message held for newer code (its message version, or its saga's definition version, is unknown here) is
 * recorded with that reason and ends nothing: it is redriven once code that knows the version runs.
 */
import { isRetryable } from './errors';
import {
  COMMAND_VERSIONS,
  commandSchema,
  identityMismatch,
  newerVersion,
  REPLY_VERSIONS,
  schemaFor,
  type MessageVersions,
} from './messages';
import type { Orchestrator } from './saga/orchestrator';
import type { Registry } from './registry';
import { DLQ_SUFFIX, RUNTIME_TOPICS, type Topology } from './topology';
import type { PushMessage } from './push';
import type { DeadLetterStore } from './store/dead-letters';
import type { SagaDoc } from './store/sagas';

/** Why a message reached its dead-letter topic. */
export interface DeadLetterReason {
  reason: 'MAX_DELIVERY_ATTEMPTS' | 'UNSUPPORTED_VERSION' | 'UNKNOWN_DEFINITION_VERSION';
  detail: string;
}

export const DELIVERY_ATTEMPTS_EXHAUSTED: DeadLetterReason = {
  reason: 'MAX_DELIVERY_ATTEMPTS',
  detail: 'delivery attempts exhausted',
};

/**
 * The topic a dead letter came from: the one paired with the dead-letter subscription that delivered it
 * (`<topic>-dlq--dead-letters` → `<topic>`). The `CloudPubSubDeadLetterSourceSubscription` attribute is not
 * trusted — anyone who can publish to a `*-dlq` topic can set it, and redrive republishes with the operator's
 * credentials — so a message can only ever be redriven to the topic whose dead-letter topic it arrived on.
 */
export function sourceTopicOf(topology: Topology, push: PushMessage): string {
  const sub = push.subscription?.split('/').pop();
  const spec = topology.subscriptions.find((s) => s.name === sub && s.deadLetterTopic === null);
  if (spec?.topic.endsWith(DLQ_SUFFIX)) return spec.topic.slice(0, -DLQ_SUFFIX.length);
  return 'unknown';
}

/**
 * Classifies a dead letter. A saga command (on a command topic) or reply (on saga-replies) is UNSUPPORTED_VERSION
 * when its `v` is newer than this code reads, UNKNOWN_DEFINITION_VERSION when its saga runs on a definition version
 * this code does not know (one read of the saga); everything else is MAX_DELIVERY_ATTEMPTS. Both held reasons mean
 * the consumer retried it as newer code's: redrive it once that code runs.
 */
export async function classifyDeadLetter(
  deps: { registry: Registry; topology: Topology; sagas: { get(sagaId: string): Promise<SagaDoc | null> } },
  push: PushMessage,
): Promise<DeadLetterReason> {
  const source = sourceTopicOf(deps.topology, push);
  const versions: MessageVersions<{ sagaId: string; sagaType: string }> | null =
    source === RUNTIME_TOPICS.sagaReplies
      ? REPLY_VERSIONS
      : deps.registry.participantOnTopic(source)
        ? COMMAND_VERSIONS
        : null;
  if (!versions) return DELIVERY_ATTEMPTS_EXHAUSTED;
  let json: unknown;
  try {
    json = JSON.parse(push.text);
  } catch {
    return DELIVERY_ATTEMPTS_EXHAUSTED;
  }
  const newer = newerVersion(json, versions);
  if (newer !== null) {
    return {
      reason: 'UNSUPPORTED_VERSION',
      detail: `message version ${newer} is newer than this code reads; redrive it once code that knows it runs`,
    };
  }
  const message = schemaFor(json, versions).safeParse(json);
  if (!message.success) return DELIVERY_ATTEMPTS_EXHAUSTED;
  let saga: SagaDoc | null;
  try {
    saga = await deps.sagas.get(message.data.sagaId);
  } catch (err) {
    if (isRetryable(err)) throw err;
    return DELIVERY_ATTEMPTS_EXHAUSTED; // e.g. an id Firestore refuses: no saga to learn anything from
  }
  if (saga && saga.type === message.data.sagaType && deps.registry.isUnknownVersion(saga)) {
    return {
      reason: 'UNKNOWN_DEFINITION_VERSION',
      detail: `saga ${saga.sagaId} runs on ${saga.type} definition version ${saga.definitionVersion ?? 1}, which this code does not know (known: ${deps.registry.versions(saga.type).join(', ')}); redrive it once code that knows it runs`,
    };
  }
  return DELIVERY_ATTEMPTS_EXHAUSTED;
}

export async function recordDeadLetter(
  store: DeadLetterStore,
  topology: Topology,
  push: PushMessage,
  why: DeadLetterReason = DELIVERY_ATTEMPTS_EXHAUSTED,
): Promise<string> {
  const count = Number(push.attributes.CloudPubSubDeadLetterSourceDeliveryCount);
  return store.record({
    sourceTopic: sourceTopicOf(topology, push),
    // Where it was delivered from (what we trust); the claimed source subscription stays in the attributes.
    subscription: push.subscription,
    data: push.text,
    bytes: push.bytes,
    attributes: push.attributes,
    orderingKey: push.orderingKey,
    deliveryCount: Number.isFinite(count) ? count : push.deliveryAttempt,
    reason: why.reason,
    detail: why.detail,
    dedupeKey: push.pubsubMessageId ?? push.text,
  });
}

/**
 * When the dead letter is a saga command published to a participant's command topic: times its step out.
 * Returns what it did (for the log), or null for a message that is not such a command.
 */
export async function endStepOf(
  deps: { orchestrator: Orchestrator; registry: Registry; topology: Topology },
  push: PushMessage,
): Promise<{ sagaId: string; step: string; action: string; attempt: number; applied: boolean } | null> {
  const sourceTopic = sourceTopicOf(deps.topology, push);
  if (sourceTopic === 'unknown' || !deps.registry.participantOnTopic(sourceTopic)) return null;
  let json: unknown;
  try {
    json = JSON.parse(push.text);
  } catch {
    return null;
  }
  const cmd = commandSchema.safeParse(json);
  if (!cmd.success || identityMismatch(cmd.data) !== null) return null;
  const { sagaId, step, action, attempt } = cmd.data;
  const r = await deps.orchestrator.onTimeout(sagaId, { step, action, attempt }, { cause: 'deadLetter' });
  return { sagaId, step, action, attempt, applied: !r.duplicate };
}
