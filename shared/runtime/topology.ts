/**
 * The messaging topology, derived from a registry: topics, which function consumes which topic (through which push
 * subscription), which topics every function publishes to (its publisher grants), and the dead-letter wiring.
 *
 * The runtime's own functions (api, orchestrator, sweeper, dead-letters, console) and topics (replies, ticks) are fixed
 * here; every participant function and command topic comes from the registry. The local harness provisions exactly
 * this; terraform consumes it through the generated terraform/topology.auto.tfvars.json.
 */
import { stagesOf } from './engine/engine';
import type { AnySagaBinding, Registry } from './registry';

/** Topics of the runtime itself. */
export const RUNTIME_TOPICS = {
  sagaReplies: 'saga-replies',
  sagaTicks: 'saga-ticks',
} as const;

export const DLQ_SUFFIX = '-dlq';
export function dlqTopicOf(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** The runtime's functions: key (also the exported target) → folder under functions/ and deployed name. */
export const RUNTIME_FUNCTIONS = {
  api: { folder: 'api' },
  orchestrator: { folder: 'orchestrator' },
  sweeper: { folder: 'sweeper' },
  deadLetters: { folder: 'dead-letters' },
  console: { folder: 'console' },
} as const;

export interface FunctionSpec {
  /** Function key: the exported target (functions-framework --target) and the inbox namespace of a participant. */
  key: string;
  /** Folder under functions/ and the deployed function name. */
  folder: string;
  /** `http` = called by users (api, console); `push` = only called by Pub/Sub push subscriptions. */
  trigger: 'http' | 'push';
  /** Topics this function publishes to (its runtime service account may publish exactly there). */
  publishes: readonly string[];
  /** Set for a participant function. */
  participant?: true;
}

export interface SubscriptionSpec {
  name: string;
  topic: string;
  consumer: string;
  /** Dead-letter topic, or null for the subscriptions on the dead-letter topics themselves. */
  deadLetterTopic: string | null;
  /** True when the consumer relies on ordering keys (per-entity serialization). */
  ordered: boolean;
}

export interface Topology {
  /** Topics whose push subscriptions carry a dead-letter policy: every command topic, replies and ticks. */
  sourceTopics: readonly string[];
  dlqTopics: readonly string[];
  /** All topics that must exist: sources and their dead-letter topics. */
  allTopics: readonly string[];
  functions: readonly FunctionSpec[];
  subscriptions: readonly SubscriptionSpec[];
}

/**
 * The topics a saga's first commands go to: the api starts sagas and publishes exactly these (every step of every
 * stage up to and including the first stage with a step that always applies — a stage whose steps may all be skipped
 * can make the next one first; the steps of a stage start together).
 */
export function startTopics(binding: AnySagaBinding): string[] {
  const out: string[] = [];
  for (const stage of stagesOf(binding.definition)) {
    const bound = stage.flatMap((name) => binding.steps[name] ?? []);
    out.push(...bound.map((s) => s.participant.commandTopic));
    if (bound.some((s) => !s.when)) break;
  }
  return out;
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

export function deriveTopology(registry: Registry): Topology {
  const participants = registry.participants();
  const commandTopics = unique(participants.map((p) => p.commandTopic));
  const sourceTopics = [...commandTopics, RUNTIME_TOPICS.sagaReplies, RUNTIME_TOPICS.sagaTicks];
  const dlqTopics = sourceTopics.map(dlqTopicOf);
  const usedCommandTopics = unique(
    registry.sagas().flatMap((b) => Object.values(b.steps).map((s) => s.participant.commandTopic)),
  );
  const functions: FunctionSpec[] = [
    // The api starts sagas: it publishes only their first commands (the sweeper republishes the api's outbox).
    {
      key: 'api',
      folder: RUNTIME_FUNCTIONS.api.folder,
      trigger: 'http',
      publishes: unique(registry.sagas().flatMap(startTopics)),
    },
    {
      key: 'orchestrator',
      folder: RUNTIME_FUNCTIONS.orchestrator.folder,
      trigger: 'push',
      publishes: usedCommandTopics,
    },
    ...participants.map((p): FunctionSpec => ({
      key: p.name,
      folder: p.folder,
      trigger: 'push',
      publishes: [RUNTIME_TOPICS.sagaReplies],
      participant: true,
    })),
    // The sweeper republishes unsent outbox records (any saga topic) and drives timeouts through the orchestrator.
    {
      key: 'sweeper',
      folder: RUNTIME_FUNCTIONS.sweeper.folder,
      trigger: 'push',
      publishes: [...usedCommandTopics, RUNTIME_TOPICS.sagaReplies],
    },
    // A dead-lettered command times its step out at once: the dead-letters function issues the compensation.
    {
      key: 'deadLetters',
      folder: RUNTIME_FUNCTIONS.deadLetters.folder,
      trigger: 'push',
      publishes: usedCommandTopics,
    },
    // The operator console redrives a dead letter to the topic it came from: any source topic.
    {
      key: 'console',
      folder: RUNTIME_FUNCTIONS.console.folder,
      trigger: 'http',
      publishes: sourceTopics,
    },
  ];
  const folderOf = (key: string): string => functions.find((f) => f.key === key)?.folder ?? key;
  const sub = (topic: string, consumer: string, ordered: boolean): SubscriptionSpec => ({
    name: `${topic}--${folderOf(consumer)}`,
    topic,
    consumer,
    deadLetterTopic: dlqTopicOf(topic),
    ordered,
  });
  const subscriptions: SubscriptionSpec[] = [
    ...participants.map((p) => sub(p.commandTopic, p.name, p.ordered)),
    // Ordered by saga id: replies of one saga are applied in publish order.
    sub(RUNTIME_TOPICS.sagaReplies, 'orchestrator', true),
    sub(RUNTIME_TOPICS.sagaTicks, 'sweeper', false),
    ...sourceTopics.map((t): SubscriptionSpec => ({
      name: `${dlqTopicOf(t)}--${RUNTIME_FUNCTIONS.deadLetters.folder}`,
      topic: dlqTopicOf(t),
      consumer: 'deadLetters',
      deadLetterTopic: null,
      ordered: false,
    })),
  ];
  return { sourceTopics, dlqTopics, allTopics: [...sourceTopics, ...dlqTopics], functions, subscriptions };
}

/**
 * Why a topology is inconsistent (empty when it is not): a topic somebody must publish to without a grant, a
 * binding naming a participant or topic that does not exist, a participant without its function or its one push
 * subscription, a topic nobody consumes, a subscription without its dead-letter topic, a name used twice.
 */
export function topologyProblems(registry: Registry, topology: Topology): string[] {
  const problems: string[] = [];
  const fn = (key: string): FunctionSpec | undefined => topology.functions.find((f) => f.key === key);
  const grants = (key: string): readonly string[] => fn(key)?.publishes ?? [];
  const all = new Set(topology.allTopics);
  const consumed = new Set(topology.subscriptions.map((s) => s.topic));
  const pushesOn = (topic: string, consumer: string): SubscriptionSpec[] =>
    topology.subscriptions.filter((s) => s.topic === topic && s.consumer === consumer);

  for (const b of registry.sagas()) {
    const type = b.definition.type;
    for (const name of b.definition.steps) {
      const s = b.steps[name];
      if (!s) {
        problems.push(`${type}: step ${name} has no binding`);
        continue;
      }
      const p = registry.participant(s.participant.name);
      if (p !== s.participant)
        problems.push(`${type}/${name}: participant ${s.participant.name} is not registered`);
      const topic = s.participant.commandTopic;
      if (!all.has(topic)) problems.push(`${type}/${name}: topic ${topic} does not exist`);
      if (!consumed.has(topic)) problems.push(`${type}/${name}: topic ${topic} has no push subscription`);
      for (const publisher of ['orchestrator', 'sweeper', 'deadLetters']) {
        if (!grants(publisher).includes(topic))
          problems.push(`${publisher} may not publish to ${topic} (${type}/${name})`);
      }
    }
    for (const name of Object.keys(b.steps)) {
      if (!b.definition.steps.includes(name)) problems.push(`${type}: binding of unknown step ${name}`);
    }
    for (const topic of startTopics(b)) {
      if (!grants('api').includes(topic)) problems.push(`api may not publish to ${topic} (start of ${type})`);
    }
  }

  const byTopic = new Map<string, string>();
  for (const p of registry.participants()) {
    const other = byTopic.get(p.commandTopic);
    if (other !== undefined)
      problems.push(`topic ${p.commandTopic} is the command topic of both ${other} and ${p.name}`);
    byTopic.set(p.commandTopic, p.name);
    const f = fn(p.name);
    if (!f?.participant) problems.push(`participant ${p.name} has no function`);
    const subs = pushesOn(p.commandTopic, p.name);
    if (subs.length !== 1)
      problems.push(
        `participant ${p.name} has ${subs.length} push subscriptions on ${p.commandTopic}, not 1`,
      );
  }
  for (const f of topology.functions.filter((x) => x.participant)) {
    if (!grants(f.key).includes(RUNTIME_TOPICS.sagaReplies))
      problems.push(`${f.key} may not publish replies`);
  }
  // The sweeper republishes unsent outbox records, participants' replies among them.
  if (!grants('sweeper').includes(RUNTIME_TOPICS.sagaReplies))
    problems.push(`sweeper may not publish to ${RUNTIME_TOPICS.sagaReplies} (outbox of participants)`);
  // Redrive republishes a dead letter to its source topic.
  for (const t of topology.sourceTopics) {
    if (!grants('console').includes(t)) problems.push(`console may not publish to ${t} (redrive)`);
  }
  for (const [topic, consumer] of [
    [RUNTIME_TOPICS.sagaReplies, 'orchestrator'],
    [RUNTIME_TOPICS.sagaTicks, 'sweeper'],
  ] as const) {
    if (pushesOn(topic, consumer).length !== 1) problems.push(`${topic} is not pushed to ${consumer}`);
  }

  for (const f of topology.functions) {
    for (const t of f.publishes)
      if (!all.has(t)) problems.push(`${f.key} publishes to ${t}, which does not exist`);
  }
  for (const t of topology.allTopics) {
    if (!consumed.has(t)) problems.push(`topic ${t} has no push subscription`);
  }
  const sources = new Set(topology.sourceTopics);
  for (const s of topology.subscriptions) {
    if (!all.has(s.topic)) problems.push(`subscription ${s.name} is on ${s.topic}, which does not exist`);
    if (!fn(s.consumer)) problems.push(`subscription ${s.name}: no function ${s.consumer}`);
    const dlq = s.deadLetterTopic;
    if (sources.has(s.topic) && dlq !== dlqTopicOf(s.topic))
      problems.push(`subscription ${s.name} dead-letters to ${dlq ?? 'nothing'}, not ${dlqTopicOf(s.topic)}`);
    else if (dlq !== null && !all.has(dlq))
      problems.push(`subscription ${s.name} dead-letters to ${dlq}, which does not exist`);
  }
  for (const [what, names] of [
    ['function', topology.functions.map((f) => f.key)],
    ['function folder', topology.functions.map((f) => f.folder)],
    ['subscription', topology.subscriptions.map((s) => s.name)],
    ['topic', topology.allTopics],
  ] as const) {
    for (const n of unique(names.filter((x, i) => names.indexOf(x) !== i)))
      problems.push(`${what} ${n} is declared twice`);
  }
  // Several versions of a saga type bind the same steps: each problem once.
  return [...new Set(problems)];
}
