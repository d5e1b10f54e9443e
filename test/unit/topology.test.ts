/**
 * The messaging topology derived from a registry, and its consistency check (`topologyProblems`): for this
 * deployment's registry, and for small fake registries and hand-broken topologies, each with the exact problems
 * it must report.
 */
import { z } from 'zod';
import { registry } from '../../shared/registry';
import {
  declareParticipant,
  defineSaga,
  Registry,
  step,
  type AnySagaBinding,
  type ParticipantDeclaration,
} from '../../shared/runtime/registry';
import {
  deriveTopology,
  dlqTopicOf,
  startTopics,
  topologyProblems,
  type Topology,
} from '../../shared/runtime/topology';

const topology = deriveTopology(registry);
const fn = (t: Topology, key: string) => t.functions.find((f) => f.key === key);
const sorted = (xs: readonly string[]): string[] => [...xs].sort();
const stepTopics = (r: Registry): string[] => [
  ...new Set(r.sagas().flatMap((b) => Object.values(b.steps).map((s) => s.participant.commandTopic))),
];

describe('the topology of this deployment', () => {
  it('has no problems', () => {
    expect(topologyProblems(registry, topology)).toEqual([]);
  });

  it('has the topics of the contract, each source topic with its -dlq', () => {
    const commands = [
      'credit-commands',
      'inventory-commands',
      'payment-commands',
      'flight-commands',
      'hotel-commands',
      'car-commands',
    ];
    const sources = [...commands, 'saga-replies', 'saga-ticks'];
    expect(sorted(topology.sourceTopics)).toEqual(sorted(sources));
    expect(sorted(topology.dlqTopics)).toEqual(sorted(sources.map((t) => `${t}-dlq`)));
    expect(sorted(topology.allTopics)).toEqual(sorted([...sources, ...sources.map((t) => `${t}-dlq`)]));
  });

  it.each(registry.participants().map((p) => [p.name, p] as const))(
    'participant %s: one push subscription on its command topic, with a -dlq consumed by deadLetters',
    (_name, p) => {
      const subs = topology.subscriptions.filter((s) => s.topic === p.commandTopic);
      expect(subs).toEqual([
        {
          name: `${p.commandTopic}--${p.folder}`,
          topic: p.commandTopic,
          consumer: p.name,
          deadLetterTopic: `${p.commandTopic}-dlq`,
          ordered: p.ordered,
        },
      ]);
      expect(topology.subscriptions.filter((s) => s.topic === `${p.commandTopic}-dlq`)).toEqual([
        expect.objectContaining({ consumer: 'deadLetters', deadLetterTopic: null }),
      ]);
      expect(fn(topology, p.name)).toEqual({
        key: p.name,
        folder: p.folder,
        trigger: 'push',
        publishes: ['saga-replies'],
        participant: true,
      });
    },
  );

  it('saga-replies is pushed to the orchestrator (ordered), saga-ticks to the sweeper', () => {
    const sources = topology.subscriptions.filter((s) => s.deadLetterTopic !== null);
    expect(sources.find((s) => s.topic === 'saga-replies')).toMatchObject({
      consumer: 'orchestrator',
      ordered: true,
      deadLetterTopic: 'saga-replies-dlq',
    });
    expect(sources.find((s) => s.topic === 'saga-ticks')).toMatchObject({
      consumer: 'sweeper',
      deadLetterTopic: 'saga-ticks-dlq',
    });
  });

  const everyStep = registry
    .sagas()
    .flatMap((b) => b.definition.steps.map((s) => [b.definition.type, s, b.steps[s]!.participant] as const));
  it.each(
    ['orchestrator', 'sweeper', 'deadLetters'].flatMap((key) =>
      everyStep.map(([t, s, p]) => [key, t, s, p.commandTopic] as const),
    ),
  )('%s may publish the topic of %s/%s (%s)', (key, _type, _step, topic) => {
    expect(fn(topology, key)?.publishes).toContain(topic);
  });

  it('the orchestrator and deadLetters publish exactly the step topics; the sweeper also replies', () => {
    const steps = sorted(stepTopics(registry));
    expect(sorted(fn(topology, 'orchestrator')!.publishes)).toEqual(steps);
    expect(sorted(fn(topology, 'deadLetters')!.publishes)).toEqual(steps);
    expect(sorted(fn(topology, 'sweeper')!.publishes)).toEqual(sorted([...steps, 'saga-replies']));
  });

  it.each([
    ['order-placement', ['credit-commands']],
    ['trip-booking', ['flight-commands']],
  ])('the api starts %s on %j', (type, topics) => {
    expect(startTopics(registry.latest(type)!)).toEqual(topics);
  });

  it('the console is an http function publishing exactly the source topics (redrive republishes to them)', () => {
    const spec = fn(topology, 'console')!;
    expect(spec.trigger).toBe('http');
    expect(sorted(spec.publishes)).toEqual(sorted(topology.sourceTopics));
    expect(topology.subscriptions.filter((s) => s.consumer === 'console')).toEqual([]);
  });

  it('the api publishes exactly the start topics of each saga', () => {
    expect(sorted(fn(topology, 'api')!.publishes)).toEqual(
      sorted([...new Set(registry.sagas().flatMap(startTopics))]),
    );
  });
});

// Small fake deployments.
const payload = z.strictObject({ id: z.string() });
const participant = (name: string, topic = `${name}-commands`, folder = name): ParticipantDeclaration =>
  declareParticipant({ name, folder, commandTopic: topic, ordered: false, payloadSchema: payload });
const alpha = participant('alpha');
const beta = participant('beta');
const dataSchema = z.strictObject({ id: z.string(), extra: z.boolean() });
type Data = z.infer<typeof dataSchema>;

function saga(
  steps: readonly string[],
  bindings: Record<string, ParticipantDeclaration>,
  when: Record<string, (d: Data) => boolean> = {},
): AnySagaBinding {
  return defineSaga<Data>({
    definition: { type: 'fake', steps },
    dataSchema,
    steps: Object.fromEntries(
      Object.entries(bindings).map(([name, p]) => {
        const w = when[name];
        return [
          name,
          step({ participant: p, payload: (d: Data) => ({ id: d.id }), ...(w ? { when: w } : {}) }),
        ];
      }),
    ),
  });
}

const fakeSaga = saga(['one', 'two'], { one: alpha, two: beta });
const fake = (sagas: readonly AnySagaBinding[], participants: readonly ParticipantDeclaration[]) =>
  new Registry({ sagas, participants });
const problemsOf = (r: Registry): string[] => topologyProblems(r, deriveTopology(r));

describe('a fake registry', () => {
  it('declared consistently has no problems', () => {
    expect(problemsOf(fake([fakeSaga], [alpha, beta]))).toEqual([]);
  });

  it.each<[string, Registry, string[]]>([
    [
      'a step naming a participant that is not registered',
      fake([fakeSaga], [alpha]),
      [
        'fake/two: participant beta is not registered',
        'fake/two: topic beta-commands does not exist',
        'fake/two: topic beta-commands has no push subscription',
        'orchestrator publishes to beta-commands, which does not exist',
        'sweeper publishes to beta-commands, which does not exist',
        'deadLetters publishes to beta-commands, which does not exist',
      ],
    ],
    [
      'a step naming a registered participant by a declaration on another topic',
      fake(
        [saga(['one', 'two'], { one: alpha, two: participant('beta', 'beta-v2-commands') })],
        [alpha, beta],
      ),
      [
        'fake/two: participant beta is not registered',
        'fake/two: topic beta-v2-commands does not exist',
        'fake/two: topic beta-v2-commands has no push subscription',
        'orchestrator publishes to beta-v2-commands, which does not exist',
        'sweeper publishes to beta-v2-commands, which does not exist',
        'deadLetters publishes to beta-v2-commands, which does not exist',
      ],
    ],
    [
      'a binding for a step not in the definition',
      fake([saga(['one'], { one: alpha, ghost: beta })], [alpha, beta]),
      ['fake: binding of unknown step ghost'],
    ],
    [
      'a step without a binding',
      fake([saga(['one', 'two'], { one: alpha })], [alpha, beta]),
      ['fake: step two has no binding'],
    ],
    [
      'two participants on one command topic',
      fake([fakeSaga], [alpha, beta, participant('gamma', 'beta-commands')]),
      ['topic beta-commands is the command topic of both beta and gamma'],
    ],
    [
      'a participant deployed under a runtime function folder',
      fake([fakeSaga], [alpha, beta, participant('gamma', 'gamma-commands', 'orchestrator')]),
      ['function folder orchestrator is declared twice'],
    ],
    [
      'a participant named like a runtime function',
      fake([fakeSaga], [alpha, beta, participant('sweeper', 'sweeper-commands', 'sweeper-p')]),
      [
        'function sweeper is declared twice',
        // The participant shadows the runtime's sweeper: its grants are the participant's.
        'sweeper may not publish to alpha-commands (fake/one)',
        'sweeper may not publish to beta-commands (fake/two)',
      ],
    ],
  ])('reports %s', (_what, r, problems) => {
    expect(sorted(problemsOf(r))).toEqual(sorted(problems));
  });

  it('a step that may be skipped makes the next one a start topic too, and the api may publish both', () => {
    const r = fake([saga(['one', 'two'], { one: alpha, two: beta }, { one: (d) => d.extra })], [alpha, beta]);
    expect(startTopics(r.sagas()[0]!)).toEqual(['alpha-commands', 'beta-commands']);
    expect(sorted(fn(deriveTopology(r), 'api')!.publishes)).toEqual(['alpha-commands', 'beta-commands']);
    expect(problemsOf(r)).toEqual([]);
  });
});

/** The topology of this deployment with one change applied. */
function broken(change: (t: Topology) => Topology): string[] {
  return topologyProblems(registry, change(structuredClone(topology)));
}
const withoutGrant =
  (key: string, topic: string) =>
  (t: Topology): Topology => ({
    ...t,
    functions: t.functions.map((f) =>
      f.key === key ? { ...f, publishes: f.publishes.filter((x) => x !== topic) } : f,
    ),
  });

describe('a topology of this deployment with a grant removed', () => {
  it.each<[string, string, string[]]>([
    [
      'orchestrator',
      'payment-commands',
      [
        'orchestrator may not publish to payment-commands (order-placement/payment)',
        'orchestrator may not publish to payment-commands (trip-booking/payment)',
      ],
    ],
    ['sweeper', 'hotel-commands', ['sweeper may not publish to hotel-commands (trip-booking/hotel)']],
    ['sweeper', 'saga-replies', ['sweeper may not publish to saga-replies (outbox of participants)']],
    ['deadLetters', 'car-commands', ['deadLetters may not publish to car-commands (trip-booking/car)']],
    ['api', 'flight-commands', ['api may not publish to flight-commands (start of trip-booking)']],
    ['api', 'credit-commands', ['api may not publish to credit-commands (start of order-placement)']],
    ['flights', 'saga-replies', ['flights may not publish replies']],
    ['payment', 'saga-replies', ['payment may not publish replies']],
    ['console', 'saga-ticks', ['console may not publish to saga-ticks (redrive)']],
    ['console', 'hotel-commands', ['console may not publish to hotel-commands (redrive)']],
  ])('%s → %s', (key, topic, problems) => {
    expect(fn(topology, key)?.publishes).toContain(topic);
    expect(broken(withoutGrant(key, topic))).toEqual(problems);
  });
});

describe('a topology of this deployment with its wiring broken', () => {
  const subOn = (topic: string) => (s: { topic: string }) => s.topic === topic;
  it.each<[string, (t: Topology) => Topology, string[]]>([
    [
      'the push subscription of a command topic removed',
      (t) => ({ ...t, subscriptions: t.subscriptions.filter((s) => !subOn('flight-commands')(s)) }),
      [
        'trip-booking/flight: topic flight-commands has no push subscription',
        'participant flights has 0 push subscriptions on flight-commands, not 1',
        'topic flight-commands has no push subscription',
      ],
    ],
    [
      'a command topic pushed twice to its participant',
      (t) => ({
        ...t,
        subscriptions: [
          ...t.subscriptions,
          { ...t.subscriptions.find(subOn('credit-commands'))!, name: 'credit-commands--credit-2' },
        ],
      }),
      ['participant credit has 2 push subscriptions on credit-commands, not 1'],
    ],
    [
      'a command subscription without its dead-letter topic',
      (t) => ({
        ...t,
        subscriptions: t.subscriptions.map((s) =>
          subOn('car-commands')(s) ? { ...s, deadLetterTopic: null } : s,
        ),
      }),
      ['subscription car-commands--cars dead-letters to nothing, not car-commands-dlq'],
    ],
    [
      'a dead-letter topic removed',
      (t) => ({
        ...t,
        dlqTopics: t.dlqTopics.filter((x) => x !== dlqTopicOf('hotel-commands')),
        allTopics: t.allTopics.filter((x) => x !== dlqTopicOf('hotel-commands')),
      }),
      [
        'subscription hotel-commands--hotels dead-letters to hotel-commands-dlq, which does not exist',
        'subscription hotel-commands-dlq--dead-letters is on hotel-commands-dlq, which does not exist',
      ],
    ],
    [
      'the subscription of a dead-letter topic removed',
      (t) => ({ ...t, subscriptions: t.subscriptions.filter((s) => !subOn('payment-commands-dlq')(s)) }),
      ['topic payment-commands-dlq has no push subscription'],
    ],
    [
      'saga-replies pushed to another function',
      (t) => ({
        ...t,
        subscriptions: t.subscriptions.map((s) =>
          subOn('saga-replies')(s) ? { ...s, consumer: 'sweeper' } : s,
        ),
      }),
      ['saga-replies is not pushed to orchestrator'],
    ],
    [
      'a participant function removed',
      (t) => ({ ...t, functions: t.functions.filter((f) => f.key !== 'inventory') }),
      [
        'participant inventory has no function',
        'subscription inventory-commands--inventory: no function inventory',
      ],
    ],
    [
      'a command topic removed',
      (t) => ({
        ...t,
        sourceTopics: t.sourceTopics.filter((x) => x !== 'credit-commands'),
        allTopics: t.allTopics.filter((x) => x !== 'credit-commands'),
      }),
      [
        'order-placement/credit: topic credit-commands does not exist',
        'api publishes to credit-commands, which does not exist',
        'orchestrator publishes to credit-commands, which does not exist',
        'sweeper publishes to credit-commands, which does not exist',
        'deadLetters publishes to credit-commands, which does not exist',
        'console publishes to credit-commands, which does not exist',
        'subscription credit-commands--credit is on credit-commands, which does not exist',
      ],
    ],
  ])('reports %s', (_what, change, problems) => {
    expect(sorted(broken(change))).toEqual(sorted(problems));
  });
});
