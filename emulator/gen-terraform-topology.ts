/**
 * Generates terraform/topology.auto.tfvars.json from the ONE topology declaration (shared/topology.ts) and the
 * Firestore layout (shared/runtime/store/collections.ts), so terraform deploys exactly what the local harness provisions.
 *
 *   npm run gen:terraform       # rewrites the file; commit it
 *
 * test/unit/terraform.test.ts fails when the committed file differs from what terraformTopology() returns now.
 * The output is deterministic: keys in a fixed order, maps in declaration order, 2-space JSON, trailing newline.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tickSchema } from '../shared/runtime/messages';
import { INDEXES, TTL_FIELDS } from '../shared/runtime/store/collections';
import {
  ALL_TOPICS,
  DLQ_TOPICS,
  FUNCTION_SPECS,
  SOURCE_TOPICS,
  SUBSCRIPTIONS,
  TOPICS,
  deployedName,
} from '../shared/topology';

export interface TfSubscription {
  name: string;
  topic: string;
  /** Deployed name of the consuming function. */
  consumer: string;
  /** Dead-letter topic, or null for the subscriptions on the dead-letter topics themselves. */
  dead_letter_topic: string | null;
  ordered: boolean;
}

export interface TfFunction {
  name: string;
  entry_point: string;
  trigger: 'http' | 'push';
  publishes: string[];
}

export interface TfPublisherBinding {
  /** Deployed function name (its runtime service account publishes). */
  function: string;
  topic: string;
}

export interface TfIndex {
  collection: string;
  fields: { field_path: string; order: 'ASCENDING' | 'DESCENDING' }[];
}

export interface TfTtlField {
  collection: string;
  field: string;
}

/** Shape of terraform/topology.auto.tfvars.json; each key is a variable declared in terraform/topology.tf. */
export interface TerraformTopology {
  topics: string[];
  dead_letter_topics: string[];
  /** Keyed by subscription name. */
  subscriptions: Record<string, TfSubscription>;
  /** Keyed by deployed function name. */
  functions: Record<string, TfFunction>;
  /** One entry per (function, topic it publishes to), keyed `<function>/<topic>`. */
  publisher_bindings: Record<string, TfPublisherBinding>;
  /** Deployed name of the HTTP API function (its URL is the API URL). */
  api_function: string;
  /** Deployed name of the operator console function. */
  console_function: string;
  /** What Cloud Scheduler publishes to drive the sweeper. */
  sweep: { topic: string; message: Record<string, string> };
  /** Composite indexes, keyed `<collection>/<field>:<order>,...`. */
  indexes: Record<string, TfIndex>;
  /** TTL policies, keyed `<collection>/<field>`. */
  ttl_fields: Record<string, TfTtlField>;
}

function unique<T>(items: readonly T[], what: string): T[] {
  const seen = new Set<T>();
  for (const item of items) {
    if (seen.has(item)) throw new Error(`duplicate ${what}: ${String(item)}`);
    seen.add(item);
  }
  return [...items];
}

function keyed<T>(entries: readonly (readonly [string, T])[], what: string): Record<string, T> {
  unique(
    entries.map(([k]) => k),
    what,
  );
  return Object.fromEntries(entries);
}

/** Pure: the terraform view of the topology, derived from shared/ only. */
export function terraformTopology(): TerraformTopology {
  const topics = unique(SOURCE_TOPICS, 'topic');
  const deadLetterTopics = unique(DLQ_TOPICS, 'dead-letter topic');
  const known = new Set<string>(ALL_TOPICS);

  const subscriptions = keyed(
    SUBSCRIPTIONS.map((s): [string, TfSubscription] => {
      if (!known.has(s.topic)) throw new Error(`subscription ${s.name}: unknown topic ${s.topic}`);
      return [
        s.name,
        {
          name: s.name,
          topic: s.topic,
          consumer: deployedName(s.consumer),
          dead_letter_topic: s.deadLetterTopic,
          ordered: s.ordered,
        },
      ];
    }),
    'subscription',
  );

  const functions = keyed(
    FUNCTION_SPECS.map((f): [string, TfFunction] => [
      deployedName(f.key),
      {
        name: deployedName(f.key),
        entry_point: f.key,
        trigger: f.trigger,
        publishes: unique(f.publishes, `topic published by ${f.key}`),
      },
    ]),
    'function',
  );

  const publisherBindings = keyed(
    FUNCTION_SPECS.flatMap((f) =>
      f.publishes.map((topic): [string, TfPublisherBinding] => {
        if (!known.has(topic)) throw new Error(`function ${f.key} publishes to unknown topic ${topic}`);
        return [`${deployedName(f.key)}/${topic}`, { function: deployedName(f.key), topic }];
      }),
    ),
    'publisher binding',
  );

  const indexes = keyed(
    INDEXES.map((ix): [string, TfIndex] => [
      `${ix.collection}/${ix.fields.map((f) => `${f.field}:${f.order.toLowerCase()}`).join(',')}`,
      { collection: ix.collection, fields: ix.fields.map((f) => ({ field_path: f.field, order: f.order })) },
    ]),
    'index',
  );

  const ttlFields = keyed(
    TTL_FIELDS.map((t): [string, TfTtlField] => [
      `${t.collection}/${t.field}`,
      { collection: t.collection, field: t.field },
    ]),
    'TTL field',
  );

  // Validated against the sweeper's schema, so a schema change that the scheduler payload no longer meets fails here.
  const tick = tickSchema.parse({ type: 'saga.tick' });

  return {
    topics,
    dead_letter_topics: deadLetterTopics,
    subscriptions,
    functions,
    publisher_bindings: publisherBindings,
    api_function: deployedName('api'),
    console_function: deployedName('console'),
    sweep: { topic: TOPICS.sagaTicks, message: { type: tick.type } },
    indexes,
    ttl_fields: ttlFields,
  };
}

/** The file's exact content. */
export function renderTerraformTopology(topology: TerraformTopology = terraformTopology()): string {
  return `${JSON.stringify(topology, null, 2)}\n`;
}

export const TOPOLOGY_TFVARS_PATH = path.join('terraform', 'topology.auto.tfvars.json');

function main(): void {
  const target = path.resolve(process.cwd(), TOPOLOGY_TFVARS_PATH);
  writeFileSync(target, renderTerraformTopology());
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}

if (require.main === module) {
  main();
}
