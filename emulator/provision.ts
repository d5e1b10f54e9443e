/**
 * Provisions the messaging topology of shared/topology.ts on Pub/Sub (the emulator, through PUBSUB_EMULATOR_HOST
 * or an explicit host): every topic, and every subscription as a push subscription to its consumer's endpoint with
 * the dead-letter and retry policies. Idempotent: existing topics are kept and existing subscriptions are re-pointed
 * at the given endpoints (a restart on new ports works).
 */
import type { PubSub, Subscription } from '@google-cloud/pubsub';
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
}

const ALREADY_EXISTS = 6;
export const ACK_DEADLINE_SECONDS = 60;

function isAlreadyExists(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ALREADY_EXISTS;
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

function policies(spec: SubscriptionSpec, opts: ProvisionOptions) {
  return {
    retryPolicy: { minimumBackoff: duration(opts.minBackoffS), maximumBackoff: duration(opts.maxBackoffS) },
    ...(spec.deadLetterTopic === null
      ? {}
      : {
          deadLetterPolicy: {
            deadLetterTopic: `projects/${opts.projectId}/topics/${spec.deadLetterTopic}`,
            maxDeliveryAttempts: opts.maxDeliveryAttempts,
          },
        }),
  };
}

async function ensureSubscription(
  pubsub: PubSub,
  spec: SubscriptionSpec,
  opts: ProvisionOptions,
): Promise<boolean> {
  const pushEndpoint = opts.endpoints[spec.consumer];
  try {
    await pubsub.topic(spec.topic).createSubscription(spec.name, {
      pushConfig: { pushEndpoint },
      ackDeadlineSeconds: ACK_DEADLINE_SECONDS,
      enableMessageOrdering: spec.ordered,
      ...policies(spec, opts),
    });
    return true;
  } catch (err) {
    if (!isAlreadyExists(err)) throw new Error(`creating subscription ${spec.name} failed`, { cause: err });
  }
  const sub = pubsub.subscription(spec.name);
  await sub.modifyPushConfig({ pushEndpoint });
  await sub.setMetadata(policies(spec, opts));
  return false;
}

export async function provisionTopology(opts: ProvisionOptions): Promise<ProvisionResult> {
  const pubsub = pubsubClient(opts.projectId, opts.pubsubHost);
  const result: ProvisionResult = { topicsCreated: [], subscriptionsCreated: [], subscriptionsUpdated: [] };
  try {
    const created = await Promise.all(ALL_TOPICS.map((t) => ensureTopic(pubsub, t)));
    result.topicsCreated = ALL_TOPICS.filter((_, i) => created[i]);
    for (const spec of SUBSCRIPTIONS) {
      const fresh = await ensureSubscription(pubsub, spec, opts);
      (fresh ? result.subscriptionsCreated : result.subscriptionsUpdated).push(spec.name);
    }
  } finally {
    await pubsub.close();
  }
  return result;
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
