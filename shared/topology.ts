/**
 * The ONE declaration of the messaging topology: topics, which function consumes which topic (through which
 * push subscription), which topics every function publishes to, and the dead-letter wiring.
 *
 * The local harness (emulator/provision.ts) provisions exactly this; terraform consumes it through the generated
 * terraform/topology.auto.tfvars.json (see emulator/gen-terraform-topology.ts), and a test fails when they drift.
 */

export const TOPICS = {
  creditCommands: 'credit-commands',
  inventoryCommands: 'inventory-commands',
  paymentCommands: 'payment-commands',
  sagaReplies: 'saga-replies',
  sagaTicks: 'saga-ticks',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Topics whose push subscriptions carry a dead-letter policy. */
export const SOURCE_TOPICS: readonly TopicName[] = Object.values(TOPICS);

export const DLQ_SUFFIX = '-dlq';
export function dlqTopicOf(topic: TopicName): string {
  return `${topic}${DLQ_SUFFIX}`;
}
export const DLQ_TOPICS: readonly string[] = SOURCE_TOPICS.map(dlqTopicOf);

/** Names of the deployable functions: folder name under functions/ and the exported target name. */
export const FUNCTIONS = {
  api: { folder: 'api', target: 'api' },
  orchestrator: { folder: 'orchestrator', target: 'orchestrator' },
  credit: { folder: 'credit', target: 'credit' },
  inventory: { folder: 'inventory', target: 'inventory' },
  payment: { folder: 'payment', target: 'payment' },
  sweeper: { folder: 'sweeper', target: 'sweeper' },
  deadLetters: { folder: 'dead-letters', target: 'deadLetters' },
} as const;

export type FunctionKey = keyof typeof FUNCTIONS;

/** Function name as deployed (Cloud Functions names: lowercase letters, digits, hyphens). */
export function deployedName(fn: FunctionKey): string {
  return FUNCTIONS[fn].folder;
}

export interface FunctionSpec {
  key: FunctionKey;
  /** `http` = called by users; `push` = only called by Pub/Sub push subscriptions. */
  trigger: 'http' | 'push';
  /** Topics this function publishes to (its runtime service account may publish exactly there). */
  publishes: readonly string[];
}

const COMMAND_TOPICS = [TOPICS.creditCommands, TOPICS.inventoryCommands, TOPICS.paymentCommands] as const;

export const FUNCTION_SPECS: readonly FunctionSpec[] = [
  // The api starts sagas: it publishes the first command of a saga.
  { key: 'api', trigger: 'http', publishes: [...COMMAND_TOPICS] },
  { key: 'orchestrator', trigger: 'push', publishes: [...COMMAND_TOPICS] },
  { key: 'credit', trigger: 'push', publishes: [TOPICS.sagaReplies] },
  { key: 'inventory', trigger: 'push', publishes: [TOPICS.sagaReplies] },
  { key: 'payment', trigger: 'push', publishes: [TOPICS.sagaReplies] },
  // The sweeper republishes unsent outbox records (any saga topic) and drives timeouts through the orchestrator logic.
  { key: 'sweeper', trigger: 'push', publishes: [...COMMAND_TOPICS, TOPICS.sagaReplies] },
  { key: 'deadLetters', trigger: 'push', publishes: [] },
];

export interface SubscriptionSpec {
  name: string;
  topic: string;
  consumer: FunctionKey;
  /** Dead-letter topic, or null for the subscriptions on the dead-letter topics themselves. */
  deadLetterTopic: string | null;
  /** True when the consumer relies on ordering keys (per-entity serialization). */
  ordered: boolean;
}

function sub(topic: TopicName, consumer: FunctionKey, ordered: boolean): SubscriptionSpec {
  return {
    name: `${topic}--${deployedName(consumer)}`,
    topic,
    consumer,
    deadLetterTopic: dlqTopicOf(topic),
    ordered,
  };
}

export const SUBSCRIPTIONS: readonly SubscriptionSpec[] = [
  // Ordered by customer id / first sku: commands touching one hot document are delivered one at a time.
  sub(TOPICS.creditCommands, 'credit', true),
  sub(TOPICS.inventoryCommands, 'inventory', true),
  sub(TOPICS.paymentCommands, 'payment', false),
  // Ordered by saga id: replies of one saga are applied in publish order.
  sub(TOPICS.sagaReplies, 'orchestrator', true),
  sub(TOPICS.sagaTicks, 'sweeper', false),
  ...SOURCE_TOPICS.map((t): SubscriptionSpec => ({
    name: `${dlqTopicOf(t)}--${deployedName('deadLetters')}`,
    topic: dlqTopicOf(t),
    consumer: 'deadLetters',
    deadLetterTopic: null,
    ordered: false,
  })),
];

/** All topics that must exist: sources and their dead-letter topics. */
export const ALL_TOPICS: readonly string[] = [...SOURCE_TOPICS, ...DLQ_TOPICS];

export const FUNCTION_KEYS = Object.keys(FUNCTIONS) as FunctionKey[];
