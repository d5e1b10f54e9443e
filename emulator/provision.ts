/**
 * Provisions the messaging topology of shared/topology.ts on Pub/Sub (the emulator, through PUBSUB_EMULATOR_HOST
 * or an explicit host): every topic, and every subscription as a push subscription to its consumer's endpoint with
 * the retry policy and, except on ordered subscriptions (below), the dead-letter policy. Idempotent: existing topics
 * are kept and existing subscriptions are re-pointed at the given endpoints (a restart on new ports works).
 *
 * Measured on the Pub/Sub emulator 0.8.20 (gcloud 528.0.0), push subscriptions whose endpoint went away:
 *   - Ordered with a dead-letter policy: the first message to exceed maxDeliveryAttempts (5 refused or failed pushes,
 *     e.g. a 9 s restart) throws a NullPointerException in the emulator's push loop (the per-key backlogs have no
 *     publisher to dead-letter with), which kills it: the subscription never delivers again, on any ordering key,
 *     nothing is dead-lettered. Neither modifyPushConfig (same or new endpoint) nor time (100 s) revives it;
 *     deleting and re-creating the subscription does (its backlog is lost).
 *   - Ordered without a dead-letter policy: a refused, reset or 5xx push is retried about every second for ever;
 *     after a 9 s outage everything is delivered, in order per key.
 *   - Unordered with a retry policy (as here): after a 9 s outage the backlog of that time (pushes in flight and
 *     queued) is neither delivered nor dead-lettered within 100 s; later messages are delivered. (Without a retry
 *     policy it is dead-lettered instead.)
 *   - Parked (modifyPushConfig to no endpoint: a pull subscription) before the endpoint goes, ordered or not: nothing
 *     is attempted, and re-pointing it delivers the whole backlog, in order per key.
 * Hence: ordered subscriptions get no dead-letter policy locally (their step timeout still ends a saga whose command
 * keeps failing; in the cloud terraform keeps the policy), an existing ordered subscription that has one is re-created
 * (it may be dead already, which the API cannot tell), and a stack stopping on emulators it reuses parks its
 * subscriptions (parkSubscriptions).
 */
import type { PubSub, Subscription } from '@google-cloud/pubsub';
import { GRPC, grpcCode } from '../shared/runtime/errors';
import { ALL_TOPICS, SUBSCRIPTIONS, type FunctionKey, type SubscriptionSpec } from '../shared/topology';
import { pubsubClient } from './clients';

export interface ProvisionOptions {
  projectId: string;
  /** Base URL of each function, e.g. http://127.0.0.1:8100 */
  endpoints: Record<FunctionKey, string>;
  maxDeliveryAttempts: number;
  minBackoffS: number;
  maxBackoffS: number;
  /** HOST:PORT of the Pub/Sub emulator; default: PUBSUB_EMULATOR_HOST. */
  pubsubHost?: string;
}

export interface ProvisionResult {
  topicsCreated: string[];
  subscriptionsCreated: string[];
  subscriptionsUpdated: string[];
  /**
   * Existing subscriptions deleted and created again (also listed in subscriptionsCreated): ordered ones with a
   * dead-letter policy, or whose topic or ordering differs. What they held undelivered is lost; the sweeper recovers
   * it (ARCHITECTURE.md, "The local harness").
   */
  subscriptionsRecreated: { name: string; reason: string }[];
}

export const ACK_DEADLINE_SECONDS = 60;

function isAlreadyExists(err: unknown): boolean {
  return grpcCode(err) === GRPC.ALREADY_EXISTS;
}

/** Seconds (possibly fractional) as a protobuf Duration. */
export function duration(seconds: number): { seconds: number; nanos: number } {
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

async function ensureTopic(pubsub: PubSub, name: string): Promise<boolean> {
  try {
    await pubsub.createTopic(name);
    return true;
  } catch (err) {
    if (isAlreadyExists(err)) return false;
    throw new Error(`creating topic ${name} failed`, { cause: err });
  }
}

function isNotFound(err: unknown): boolean {
  return grpcCode(err) === GRPC.NOT_FOUND;
}

/** The dead-letter topic a subscription gets locally: none on ordered ones (see the top of this file). */
export function localDeadLetterTopic(spec: SubscriptionSpec): string | null {
  return spec.ordered ? null : spec.deadLetterTopic;
}

function policies(spec: SubscriptionSpec, opts: ProvisionOptions) {
  const deadLetterTopic = localDeadLetterTopic(spec);
  return {
    retryPolicy: { minimumBackoff: duration(opts.minBackoffS), maximumBackoff: duration(opts.maxBackoffS) },
    ...(deadLetterTopic === null
      ? {}
      : {
          deadLetterPolicy: {
            deadLetterTopic: `projects/${opts.projectId}/topics/${deadLetterTopic}`,
            maxDeliveryAttempts: opts.maxDeliveryAttempts,
          },
        }),
  };
}

function createSubscription(pubsub: PubSub, spec: SubscriptionSpec, opts: ProvisionOptions) {
  return pubsub.topic(spec.topic).createSubscription(spec.name, {
    pushConfig: { pushEndpoint: opts.endpoints[spec.consumer] },
    ackDeadlineSeconds: ACK_DEADLINE_SECONDS,
    enableMessageOrdering: spec.ordered,
    ...policies(spec, opts),
  });
}

/** Why an existing subscription must be re-created rather than updated, or null. */
function recreateReason(
  meta: {
    topic?: string | null;
    enableMessageOrdering?: boolean | null;
    deadLetterPolicy?: { deadLetterTopic?: string | null } | null;
  },
  spec: SubscriptionSpec,
  projectId: string,
): string | null {
  if (meta.topic !== `projects/${projectId}/topics/${spec.topic}`) return 'on another topic';
  if (Boolean(meta.enableMessageOrdering) !== spec.ordered) return 'ordering differs';
  if (spec.ordered && meta.deadLetterPolicy?.deadLetterTopic) return 'ordered with a dead-letter policy';
  return null;
}

async function ensureSubscription(
  pubsub: PubSub,
  spec: SubscriptionSpec,
  opts: ProvisionOptions,
): Promise<{ outcome: 'created' | 'updated' } | { outcome: 'recreated'; reason: string }> {
  try {
    await createSubscription(pubsub, spec, opts);
    return { outcome: 'created' };
  } catch (err) {
    if (!isAlreadyExists(err)) throw new Error(`creating subscription ${spec.name} failed`, { cause: err });
  }
  const sub = pubsub.subscription(spec.name);
  const [meta] = await sub.getMetadata();
  const reason = recreateReason(meta, spec, opts.projectId);
  if (reason !== null) {
    await sub.delete();
    await createSubscription(pubsub, spec, opts);
    return { outcome: 'recreated', reason };
  }
  await sub.modifyPushConfig({ pushEndpoint: opts.endpoints[spec.consumer] });
  await sub.setMetadata(policies(spec, opts));
  return { outcome: 'updated' };
}

export async function provisionTopology(opts: ProvisionOptions): Promise<ProvisionResult> {
  const pubsub = pubsubClient(opts.projectId, opts.pubsubHost);
  const result: ProvisionResult = {
    topicsCreated: [],
    subscriptionsCreated: [],
    subscriptionsUpdated: [],
    subscriptionsRecreated: [],
  };
  try {
    const created = await Promise.all(ALL_TOPICS.map((t) => ensureTopic(pubsub, t)));
    result.topicsCreated = ALL_TOPICS.filter((_, i) => created[i]);
    for (const spec of SUBSCRIPTIONS) {
      const done = await ensureSubscription(pubsub, spec, opts);
      switch (done.outcome) {
        case 'created':
          result.subscriptionsCreated.push(spec.name);
          break;
        case 'recreated':
          result.subscriptionsCreated.push(spec.name);
          result.subscriptionsRecreated.push({ name: spec.name, reason: done.reason });
          break;
        case 'updated':
          result.subscriptionsUpdated.push(spec.name);
          break;
      }
    }
  } finally {
    await pubsub.close();
  }
  return result;
}

/**
 * Parks every push subscription of the topology (modifyPushConfig to no endpoint: the emulator then attempts no
 * delivery, so nothing is lost or counted against maxDeliveryAttempts while no function listens). provisionTopology
 * points them at the endpoints again. A subscription that does not exist is passed over.
 */
export async function parkSubscriptions(projectId: string, pubsubHost?: string): Promise<void> {
  const pubsub = pubsubClient(projectId, pubsubHost);
  try {
    await Promise.all(
      SUBSCRIPTIONS.map(async (spec) => {
        try {
          await pubsub.subscription(spec.name).modifyPushConfig({});
        } catch (err) {
          if (!isNotFound(err)) throw new Error(`parking subscription ${spec.name} failed`, { cause: err });
        }
      }),
    );
  } finally {
    await pubsub.close();
  }
}

/**
 * A pull subscription on `topic` (created if missing) to observe what is published there, for tests and the
 * benchmark. Only messages published after it exists are seen.
 */
export async function createTapSubscription(
  topic: string,
  name: string,
  pubsub?: PubSub,
): Promise<Subscription> {
  const client = pubsub ?? pubsubClient(process.env.GOOGLE_CLOUD_PROJECT ?? 'demo-saga');
  try {
    const [sub] = await client
      .topic(topic)
      .createSubscription(name, { ackDeadlineSeconds: ACK_DEADLINE_SECONDS });
    return sub;
  } catch (err) {
    if (isAlreadyExists(err)) return client.subscription(name);
    throw new Error(`creating tap subscription ${name} on ${topic} failed`, { cause: err });
  }
}
