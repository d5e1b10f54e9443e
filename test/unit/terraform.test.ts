/**
 * terraform/ and the code must agree. `terraform validate`/`plan` need the google provider, which cannot be
 * downloaded everywhere, so this test parses the HCL (@cdktf/hcl2json) and evaluates the few expressions the
 * configuration uses to expand resources (for_each over the generated topology, filtered locals, each.key /
 * each.value substitution). It then checks each expanded instance against shared/ — the same declarations the
 * local harness provisions.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';
import {
  renderTerraformTopology,
  terraformTopology,
  TOPOLOGY_TFVARS_PATH,
  type TerraformTopology,
} from '../../emulator/gen-terraform-topology';
import { deployedPackageJson, zip, zipEntryNames } from '../../emulator/package-source';
import { tickSchema } from '../../shared/runtime/messages';
import { INDEXES, TTL_FIELDS } from '../../shared/runtime/store/collections';
import {
  DLQ_TOPICS,
  FUNCTION_KEYS,
  FUNCTION_SPECS,
  SOURCE_TOPICS,
  SUBSCRIPTIONS,
  TOPICS,
  deployedName,
} from '../../shared/topology';

const ROOT = path.resolve(__dirname, '..', '..');
const TF_DIR = path.join(ROOT, 'terraform');

// ---------------------------------------------------------------------------------------------------------------
// A tiny view of the hcl2json output: blocks are arrays of objects, expressions are "${...}" strings.

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: Json, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what}: expected an object, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: Json, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** The single block of a nested block list (`push_config { ... }` → [{...}]). */
function block(parent: Obj, name: string, what: string): Obj {
  const list = parent[name];
  if (!Array.isArray(list) || list.length !== 1) throw new Error(`${what}: expected one ${name} block`);
  return obj(list[0], `${what}.${name}`);
}

/** Every block of a repeatable nested block (`validation { ... }` several times). */
function blocks(parent: Obj, name: string): Obj[] {
  const list = parent[name];
  return Array.isArray(list) ? list.map((b, i) => obj(b, `${name}[${i}]`)) : [];
}

function hasBlock(parent: Obj, name: string): boolean {
  const list = parent[name];
  return Array.isArray(list) && list.length > 0;
}

/** True when the whole string is one `${...}` interpolation (not e.g. `${a}-${b}`). */
function isSingleInterpolation(s: string): boolean {
  if (!s.startsWith('${') || !s.endsWith('}')) return false;
  let depth = 0;
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i === s.length - 1;
  }
  return false;
}

/** `${expr}` → expr; any other string (a literal or a template) is returned quoted. */
function expr(v: Json, what: string): string {
  const s = str(v, what);
  return isSingleInterpolation(s) ? s.slice(2, -1).trim() : JSON.stringify(s);
}

interface Tf {
  resources: Map<string, Obj>;
  /** Data sources by `<type>.<name>`. */
  data: Map<string, Obj>;
  variables: Map<string, Obj>;
  locals: Map<string, Json>;
  outputs: Map<string, Obj>;
  terraform: Obj;
}

async function loadTerraform(): Promise<Tf> {
  const raw = obj(await convertFiles(TF_DIR), 'terraform/');
  const resources = new Map<string, Obj>();
  for (const [type, byName] of Object.entries(obj(raw.resource, 'resource'))) {
    for (const [name, blocks] of Object.entries(obj(byName, type))) {
      if (!Array.isArray(blocks) || blocks.length !== 1)
        throw new Error(`${type}.${name} declared more than once`);
      resources.set(`${type}.${name}`, obj(blocks[0], `${type}.${name}`));
    }
  }
  const data = new Map<string, Obj>();
  for (const [type, byName] of Object.entries(obj(raw.data ?? {}, 'data'))) {
    for (const [name, blocks] of Object.entries(obj(byName, type))) {
      data.set(`${type}.${name}`, obj((blocks as Json[])[0], `data.${type}.${name}`));
    }
  }
  const variables = new Map<string, Obj>();
  for (const [name, blocks] of Object.entries(obj(raw.variable, 'variable'))) {
    if (!Array.isArray(blocks) || blocks.length !== 1)
      throw new Error(`variable ${name} declared more than once`);
    variables.set(name, obj(blocks[0], `variable ${name}`));
  }
  const locals = new Map<string, Json>();
  for (const localsBlock of Array.isArray(raw.locals) ? raw.locals : []) {
    for (const [name, value] of Object.entries(obj(localsBlock, 'locals'))) {
      if (locals.has(name)) throw new Error(`local ${name} declared more than once`);
      locals.set(name, value);
    }
  }
  const outputs = new Map<string, Obj>();
  for (const [name, blocks] of Object.entries(obj(raw.output, 'output'))) {
    outputs.set(name, obj((blocks as Json[])[0], `output ${name}`));
  }
  const terraform = obj((raw.terraform as Json[])[0], 'terraform');
  return { resources, data, variables, locals, outputs, terraform };
}

// ---------------------------------------------------------------------------------------------------------------
// Expansion: evaluates for_each for the expression shapes this configuration uses, then substitutes each.key and
// each.value.<attr> into an instance's attribute expressions (a stand-in for `terraform plan`).

interface Instance {
  key: string;
  value: Json;
}

class Expander {
  constructor(
    private readonly tf: Tf,
    private readonly vars: Obj,
  ) {}

  variable(name: string): Json {
    if (name in this.vars) return this.vars[name];
    const decl = this.tf.variables.get(name);
    if (!decl) throw new Error(`var.${name} is not declared`);
    if (!('default' in decl))
      throw new Error(`var.${name} has no value in topology.auto.tfvars.json and no default`);
    return decl.default;
  }

  /** Evaluates a collection expression to instances (key → value), as for_each would. */
  collection(e: string): Instance[] {
    let m: RegExpExecArray | null;
    if ((m = /^var\.(\w+)$/.exec(e))) return this.fromValue(this.variable(m[1]!), e);
    if ((m = /^local\.(\w+)$/.exec(e))) {
      const local = this.tf.locals.get(m[1]!);
      if (local === undefined) throw new Error(`local.${m[1]} is not declared`);
      return this.collection(expr(local, `local.${m[1]}`));
    }
    if ((m = /^toset\(var\.(\w+)\)$/.exec(e))) return this.set(this.variable(m[1]!), e);
    if ((m = /^toset\(concat\(var\.(\w+), var\.(\w+)\)\)$/.exec(e))) {
      return this.set([...this.list(this.variable(m[1]!), e), ...this.list(this.variable(m[2]!), e)], e);
    }
    if ((m = /^toset\(\[([\s\S]*)\]\)$/.exec(e))) {
      const items = m[1]!
        .split('\n')
        .map((line) => line.replace(/#.*$/, '').trim())
        .join(' ')
        .match(/"[^"]*"/g);
      return this.set(
        (items ?? []).map((q) => JSON.parse(q) as string),
        e,
      );
    }
    // { for k, v in var.X : k => v if v.attr ==|!= null|"literal" }
    if (
      (m = /^\{\s*for (\w+), (\w+) in var\.(\w+) : \1 => \2 if \2\.(\w+) (==|!=) (null|"[^"]*")\s*\}$/.exec(
        e,
      ))
    ) {
      const [, , , source, attr, op, literal] = m;
      const expected: Json = literal === 'null' ? null : (JSON.parse(literal!) as string);
      return this.fromValue(this.variable(source!), e).filter((i) => {
        const actual = obj(i.value, `${source}[${i.key}]`)[attr!];
        return op === '==' ? actual === expected : actual !== expected;
      });
    }
    // { for t in var.X : "${t}<suffix>" => t }
    if ((m = /^\{\s*for (\w+) in var\.(\w+) : "\$\{\1\}([^"$]*)" => \1\s*\}$/.exec(e))) {
      const suffix = m[3]!;
      return this.list(this.variable(m[2]!), e).map((t) => ({ key: `${t}${suffix}`, value: t }));
    }
    throw new Error(`cannot evaluate collection expression: ${e}`);
  }

  instances(address: string): Instance[] {
    const r = this.resource(address);
    if (!('for_each' in r)) return [{ key: '', value: null }];
    return this.collection(expr(r.for_each, `${address}.for_each`));
  }

  resource(address: string): Obj {
    const r = this.tf.resources.get(address);
    if (!r) throw new Error(`terraform declares no ${address}`);
    return r;
  }

  private fromValue(v: Json, e: string): Instance[] {
    if (isObj(v)) return Object.entries(v).map(([key, value]) => ({ key, value }));
    throw new Error(`${e}: for_each needs a map or a set, got ${JSON.stringify(v)}`);
  }

  private list(v: Json, e: string): string[] {
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
      throw new Error(`${e}: expected a list of strings`);
    }
    return v;
  }

  private set(v: Json, e: string): Instance[] {
    const items = this.list(v, e);
    expect(new Set(items).size).toBe(items.length);
    return items.map((key) => ({ key, value: key }));
  }
}

/** Substitutes each.key / each.value(.attr) of an instance into an expression. */
function bind(e: string, inst: Instance): string {
  return e
    .replace(/each\.value\.(\w+)/g, (_, attr: string) => JSON.stringify(obj(inst.value, 'each.value')[attr]))
    .replace(/each\.value\b/g, () => JSON.stringify(inst.value))
    .replace(/each\.key\b/g, () => JSON.stringify(inst.key));
}

/** The bound expression of an attribute. */
function attr(o: Obj, name: string, inst: Instance, what: string): string {
  if (!(name in o)) throw new Error(`${what}: no ${name}`);
  return bind(expr(o[name], `${what}.${name}`), inst);
}

/** `"x"` → x (a bound literal), otherwise undefined. */
function literal(e: string): string | undefined {
  return /^"[^"]*"$/.test(e) ? (JSON.parse(e) as string) : undefined;
}

/** Evaluates a bound `"a" == "b" ? "x" : "y"`. */
function ternary(e: string): string {
  const m = /^"([^"]*)" (==|!=) "([^"]*)" \? "([^"]*)" : "([^"]*)"$/.exec(e);
  if (!m) throw new Error(`cannot evaluate ${e}`);
  const equal = m[1] === m[3];
  return (m[2] === '==') === equal ? m[4]! : m[5]!;
}

/** Keys of `<resource address>["key"]` references in an expression. */
function refs(e: string, address: string): string[] {
  const re = new RegExp(`${address.replace(/\./g, '\\.')}\\["([^"]+)"\\]`, 'g');
  return [...e.matchAll(re)].map((m) => m[1]!);
}

// ---------------------------------------------------------------------------------------------------------------

let tf: Tf;
let x: Expander;
const committed = readFileSync(path.join(ROOT, TOPOLOGY_TFVARS_PATH), 'utf8');
const generated: TerraformTopology = terraformTopology();

beforeAll(async () => {
  tf = await loadTerraform();
  x = new Expander(tf, JSON.parse(committed) as Obj);
});

const pushSubscriptionResources = [
  'google_pubsub_subscription.push',
  'google_pubsub_subscription.dead_letter_push',
] as const;

describe('generated topology', () => {
  it('the committed terraform/topology.auto.tfvars.json is what `npm run gen:terraform` produces now', () => {
    // If this fails: run `npm run gen:terraform` and commit terraform/topology.auto.tfvars.json.
    expect(committed).toBe(renderTerraformTopology());
  });

  it('covers every topic, dead-letter topic, subscription, function, index and TTL field of shared/', () => {
    expect(generated.topics).toEqual([...SOURCE_TOPICS]);
    expect(generated.dead_letter_topics).toEqual([...DLQ_TOPICS]);
    expect(Object.keys(generated.subscriptions)).toEqual(SUBSCRIPTIONS.map((s) => s.name));
    expect(Object.keys(generated.functions).sort()).toEqual(FUNCTION_KEYS.map(deployedName).sort());
    expect(FUNCTION_SPECS.map((f) => f.key).sort()).toEqual([...FUNCTION_KEYS].sort());
    expect(Object.values(generated.indexes)).toHaveLength(INDEXES.length);
    expect(Object.values(generated.ttl_fields)).toHaveLength(TTL_FIELDS.length);
  });

  it('declares every generated value as a terraform variable without a default, in topology.tf', () => {
    for (const name of Object.keys(generated)) {
      const decl = tf.variables.get(name);
      expect({ name, declared: decl !== undefined }).toEqual({ name, declared: true });
      expect({ name, hasDefault: 'default' in decl! }).toEqual({ name, hasDefault: false });
    }
    expect(readFileSync(path.join(TF_DIR, 'topology.tf'), 'utf8')).toContain('variable "subscriptions"');
  });
});

describe('terraform agrees with the code', () => {
  it('every topic the code publishes to or consumes from exists, and every dead-letter topic', () => {
    const declared = new Set(x.instances('google_pubsub_topic.topic').map((i) => i.key));
    const needed = new Set<string>([
      ...Object.values(TOPICS),
      ...DLQ_TOPICS,
      ...FUNCTION_SPECS.flatMap((f) => f.publishes),
      ...SUBSCRIPTIONS.flatMap((s) => [s.topic, ...(s.deadLetterTopic ? [s.deadLetterTopic] : [])]),
    ]);
    for (const topic of needed)
      expect({ topic, declared: declared.has(topic) }).toEqual({ topic, declared: true });
    const name = attr(x.resource('google_pubsub_topic.topic'), 'name', { key: 'k', value: 'k' }, 'topic');
    expect(name).toBe('"k"'); // each topic is named after its key
  });

  it('every consumer has a push subscription to the right function, with dead-letter topic, retry policy and OIDC', () => {
    const found = new Map<string, { address: string; inst: Instance }>();
    for (const address of pushSubscriptionResources) {
      for (const inst of x.instances(address)) {
        expect(found.has(inst.key)).toBe(false);
        found.set(inst.key, { address, inst });
      }
    }
    expect([...found.keys()].sort()).toEqual(SUBSCRIPTIONS.map((s) => s.name).sort());

    const functions = new Set(x.instances('google_cloudfunctions2_function.fn').map((i) => i.key));
    for (const s of SUBSCRIPTIONS) {
      const { address, inst } = found.get(s.name)!;
      const r = x.resource(address);
      const what = `${address}["${s.name}"]`;
      const consumer = deployedName(s.consumer);

      expect(literal(attr(r, 'name', inst, what))).toBe(s.name);
      expect(refs(attr(r, 'topic', inst, what), 'google_pubsub_topic.topic')).toEqual([s.topic]);
      expect(attr(r, 'enable_message_ordering', inst, what)).toBe(String(s.ordered));

      const push = block(r, 'push_config', what);
      const endpoint = attr(push, 'push_endpoint', inst, what);
      expect(refs(endpoint, 'google_cloudfunctions2_function.fn')).toEqual([consumer]);
      expect(functions.has(consumer)).toBe(true);
      const oidc = block(push, 'oidc_token', what);
      expect(attr(oidc, 'service_account_email', inst, what)).toBe('google_service_account.push.email');
      expect(refs(attr(oidc, 'audience', inst, what), 'google_cloudfunctions2_function.fn')).toEqual([
        consumer,
      ]);

      const retry = block(r, 'retry_policy', what);
      expect(attr(retry, 'minimum_backoff', inst, what)).toMatch(/var\.retry_min_backoff_seconds/);
      expect(attr(retry, 'maximum_backoff', inst, what)).toMatch(/var\.retry_max_backoff_seconds/);
      expect(literal(attr(block(r, 'expiration_policy', what), 'ttl', inst, what))).toBe('');
      // Pub/Sub waits ack_deadline_seconds for the push response: it must cover the consumer's timeout.
      expect(attr(r, 'ack_deadline_seconds', inst, what)).toBe(
        `local.function_settings[${JSON.stringify(consumer)}].timeout_seconds`,
      );

      if (s.deadLetterTopic) {
        const dlp = block(r, 'dead_letter_policy', what);
        expect(refs(attr(dlp, 'dead_letter_topic', inst, what), 'google_pubsub_topic.topic')).toEqual([
          s.deadLetterTopic,
        ]);
        expect(attr(dlp, 'max_delivery_attempts', inst, what)).toBe('var.max_delivery_attempts');
      } else {
        expect(hasBlock(r, 'dead_letter_policy')).toBe(false);
      }
    }
  });

  it('the ack deadline can never be below the function timeout', () => {
    // Both are the consumer's timeout_seconds (previous test); a timeout above 600 s could not be an ack deadline.
    const validations = blocks(tf.variables.get('function_settings')!, 'validation').map((v) =>
      expr(v.condition, 'condition'),
    );
    expect(validations).toContainEqual(expect.stringMatching(/s\.timeout_seconds <= 600/));
    const fn = x.resource('google_cloudfunctions2_function.fn');
    for (const inst of x.instances('google_cloudfunctions2_function.fn')) {
      expect(attr(block(fn, 'service_config', 'fn'), 'timeout_seconds', inst, 'fn')).toBe(
        `local.function_settings[${JSON.stringify(inst.key)}].timeout_seconds`,
      );
    }
  });

  it('every dead-letter topic has a pull subscription that keeps what was dead-lettered', () => {
    const address = 'google_pubsub_subscription.dead_letter_pull';
    const r = x.resource(address);
    const topics = x.instances(address).map((inst) => {
      expect(hasBlock(r, 'push_config')).toBe(false);
      expect(hasBlock(r, 'dead_letter_policy')).toBe(false);
      expect(literal(attr(block(r, 'expiration_policy', address), 'ttl', inst, address))).toBe('');
      return refs(attr(r, 'topic', inst, address), 'google_pubsub_topic.topic')[0];
    });
    expect(topics.sort()).toEqual([...DLQ_TOPICS].sort());
  });

  it('every function is deployed: nodejs22, its entry point, its own runtime account, the content-hashed archive', () => {
    const address = 'google_cloudfunctions2_function.fn';
    const r = x.resource(address);
    const instances = x.instances(address);
    expect(instances.map((i) => i.key).sort()).toEqual(FUNCTION_KEYS.map(deployedName).sort());
    const indexSource = readFileSync(path.join(ROOT, 'functions', 'index.ts'), 'utf8');

    for (const key of FUNCTION_KEYS) {
      const inst = instances.find((i) => i.key === deployedName(key))!;
      const spec = FUNCTION_SPECS.find((f) => f.key === key)!;
      const what = `${address}["${inst.key}"]`;
      expect(literal(attr(r, 'name', inst, what))).toBe(deployedName(key));

      const build = block(r, 'build_config', what);
      expect(literal(attr(build, 'runtime', inst, what))).toBe('nodejs22');
      expect(literal(attr(build, 'entry_point', inst, what))).toBe(key);
      // The target is exported by the archive's main module (package.json "main": dist/functions/index.js).
      expect(indexSource).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${key}\\b[^}]*\\}`));
      const storage = block(block(build, 'source', what), 'storage_source', what);
      expect(attr(storage, 'object', inst, what)).toBe('google_storage_bucket_object.source.name');

      const service = block(r, 'service_config', what);
      expect(
        refs(attr(service, 'service_account_email', inst, what), 'google_service_account.runtime'),
      ).toEqual([deployedName(key)]);
      expect(attr(service, 'environment_variables', inst, what)).toBe('local.function_env');
      // Users call the api from the internet (IAM-checked); Pub/Sub push counts as internal traffic.
      const ingress = ternary(attr(service, 'ingress_settings', inst, what));
      expect(ingress).toBe(spec.trigger === 'http' ? 'ALLOW_ALL' : 'ALLOW_INTERNAL_ONLY');
    }

    // The object is named after the archive's content: a code change redeploys, an unchanged tree does not.
    const object = x.resource('google_storage_bucket_object.source');
    expect(str(object.name, 'name')).toBe('source-${local.source_sha256}.zip');
    expect(expr(tf.locals.get('source_sha256'), 'source_sha256')).toBe('filesha256(local.source_archive)');
    expect(expr(object.source, 'source')).toBe('local.source_archive');
  });

  it('the functions get every setting shared/runtime/config.ts reads in the cloud, and only variables it reads', () => {
    const configSource = readFileSync(path.join(ROOT, 'shared', 'runtime', 'config.ts'), 'utf8');
    const env = obj(tf.locals.get('function_env'), 'local.function_env');
    for (const name of [
      'GOOGLE_CLOUD_PROJECT',
      'SAGA_STEP_TIMEOUT_MS',
      'SAGA_SCHEDULE_TO_START_MS',
      'SAGA_THROUGHPUT_PER_S',
      'SAGA_MAX_QUEUE_S',
      'SAGA_MAX_DELIVERY_ATTEMPTS',
      'SAGA_RETRY_MIN_BACKOFF_S',
      'SAGA_RETRY_MAX_BACKOFF_S',
      'SAGA_OUTBOX_GRACE_MS',
      'SAGA_COMPENSATION_MAX_ATTEMPTS',
      'SAGA_SWEEP_INTERVAL_MS',
      'SAGA_SWEEP_BUDGET_MS',
      'SAGA_SWEEP_BATCH',
      'SAGA_LOG_LEVEL',
      'SAGA_START_VERSIONS',
      'SAGA_METRICS',
      'SAGA_METRICS_EXPORT_MS',
    ]) {
      expect(Object.keys(env)).toContain(name);
    }
    for (const [name, value] of Object.entries(env)) {
      expect({ name, readByConfig: new RegExp(`\\b${name}:`).test(configSource) }).toEqual({
        name,
        readByConfig: true,
      });
      expect(expr(value, name)).toMatch(/var\.\w+/);
      expect(['K_SERVICE', 'PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST', 'SAGA_FAULTS']).not.toContain(
        name,
      );
    }
    expect(expr(env.GOOGLE_CLOUD_PROJECT, 'GOOGLE_CLOUD_PROJECT')).toBe('var.project_id');
  });

  it('every runtime account can publish exactly where its function publishes, and nowhere else', () => {
    const granted: string[] = [];
    for (const [address, r] of tf.resources) {
      if (!/^google_pubsub_(topic|subscription)_iam_(member|binding|policy)\./.test(address)) continue;
      for (const inst of x.instances(address)) {
        const member = attr(r, 'member', inst, address);
        for (const fn of refs(member, 'google_service_account.runtime')) {
          expect(literal(attr(r, 'role', inst, address))).toBe('roles/pubsub.publisher');
          expect(address.startsWith('google_pubsub_topic_iam_member.')).toBe(true);
          for (const topic of refs(attr(r, 'topic', inst, address), 'google_pubsub_topic.topic')) {
            granted.push(`${fn} -> ${topic}`);
          }
        }
      }
    }
    const expected = FUNCTION_SPECS.flatMap((f) => f.publishes.map((t) => `${deployedName(f.key)} -> ${t}`));
    expect(granted.sort()).toEqual(expected.sort());
  });

  it('runtime accounts get Firestore, metric and span writing and nothing else at project level; nobody gets Pub/Sub roles project-wide', () => {
    for (const [address, r] of tf.resources) {
      if (!address.startsWith('google_project_iam_')) continue;
      for (const inst of x.instances(address)) {
        const role = literal(attr(r, 'role', inst, address)) ?? '';
        expect(role.startsWith('roles/pubsub.')).toBe(false);
        expect(['roles/owner', 'roles/editor']).not.toContain(role);
        if (refs(attr(r, 'member', inst, address), 'google_service_account.runtime').length > 0) {
          expect([
            'roles/datastore.user',
            'roles/monitoring.metricWriter',
            'roles/cloudtrace.agent',
          ]).toContain(role);
        }
      }
    }
    const firestore = x.instances('google_project_iam_member.runtime_firestore').map((i) => i.key);
    expect(firestore.sort()).toEqual(FUNCTION_KEYS.map(deployedName).sort());
    // Every function exports its OpenTelemetry metrics to Cloud Monitoring (SAGA_METRICS=cloud).
    const writers = x.instances('google_project_iam_member.runtime_metric_writer');
    expect(writers.map((i) => i.key).sort()).toEqual(FUNCTION_KEYS.map(deployedName).sort());
    const writer = x.resource('google_project_iam_member.runtime_metric_writer');
    for (const inst of writers) {
      expect(literal(attr(writer, 'role', inst, 'google_project_iam_member.runtime_metric_writer'))).toBe(
        'roles/monitoring.metricWriter',
      );
    }
    const trace = x.instances('google_project_iam_member.runtime_trace').map((i) => i.key);
    expect(trace.sort()).toEqual(FUNCTION_KEYS.map(deployedName).sort());
  });

  it('the push account may invoke exactly the consumer functions; the API is not public by default', () => {
    const consumers = [...new Set(SUBSCRIPTIONS.map((s) => deployedName(s.consumer)))].sort();
    // Every consumer is a push-only function, and every push-only function consumes something.
    expect(
      FUNCTION_SPECS.filter((f) => f.trigger === 'push')
        .map((f) => deployedName(f.key))
        .sort(),
    ).toEqual(consumers);

    const invokable: string[] = [];
    for (const [address, r] of tf.resources) {
      if (!/^google_(cloud_run_v2_service|cloud_run_service|cloudfunctions2_function)_iam_/.test(address))
        continue;
      for (const inst of x.instances(address)) {
        const member = attr(r, 'member', inst, address);
        expect(member).not.toMatch(/allUsers|allAuthenticatedUsers/);
        if (member === 'google_service_account.push.member') {
          expect(literal(attr(r, 'role', inst, address))).toBe('roles/run.invoker');
          invokable.push(...refs(attr(r, 'name', inst, address), 'google_cloudfunctions2_function.fn'));
        }
      }
    }
    expect(invokable.sort()).toEqual(consumers);

    expect(tf.variables.get('api_invoker_members')!.default).toEqual([]);
    expect(x.instances('google_cloud_run_v2_service_iam_member.api_invoker')).toEqual([]);
    const api = x.resource('google_cloud_run_v2_service_iam_member.api_invoker');
    expect(expr(api.name, 'name')).toBe('google_cloudfunctions2_function.fn[var.api_function].name');
    expect(generated.api_function).toBe(deployedName('api'));
    expect(FUNCTION_SPECS.find((f) => f.key === 'api')!.trigger).toBe('http');
  });

  it('the console: invokers only from console_invoker_members (none by default, never public); publishes to every source topic', () => {
    const spec = FUNCTION_SPECS.find((f) => f.key === 'console')!;
    expect(spec.trigger).toBe('http');
    expect([...spec.publishes].sort()).toEqual([...SOURCE_TOPICS].sort());
    expect(generated.console_function).toBe(deployedName('console'));

    const decl = tf.variables.get('console_invoker_members')!;
    expect(decl.default).toEqual([]);
    const condition = expr(block(decl, 'validation', 'console_invoker_members').condition, 'condition');
    expect(condition).not.toContain('allUsers');
    expect(condition).not.toContain('allAuthenticatedUsers');
    expect(x.instances('google_cloud_run_v2_service_iam_member.console_invoker')).toEqual([]);
    const r = x.resource('google_cloud_run_v2_service_iam_member.console_invoker');
    expect(expr(r.name, 'name')).toBe('google_cloudfunctions2_function.fn[var.console_function].name');
    expect(expr(r.role, 'role')).toBe('"roles/run.invoker"');
    expect(expr(r.member, 'member')).toBe('each.value');
    expect(expr(r.for_each, 'for_each')).toBe('toset(var.console_invoker_members)');
    expect(expr(tf.outputs.get('console_url')!.value, 'console_url')).toBe(
      'google_cloudfunctions2_function.fn[var.console_function].service_config[0].uri',
    );
  });

  it('the Pub/Sub service agent can dead-letter (publisher on each DLQ, subscriber on each source subscription) and mint push tokens', () => {
    const agent = expr(tf.locals.get('pubsub_service_agent'), 'pubsub_service_agent');
    expect(agent).toBe(
      '"serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"',
    );

    const pub = 'google_pubsub_topic_iam_member.pubsub_agent_dead_letter_publisher';
    const pubRes = x.resource(pub);
    const dlqs = x.instances(pub).map((inst) => {
      expect(attr(pubRes, 'member', inst, pub)).toBe('local.pubsub_service_agent');
      expect(literal(attr(pubRes, 'role', inst, pub))).toBe('roles/pubsub.publisher');
      return refs(attr(pubRes, 'topic', inst, pub), 'google_pubsub_topic.topic')[0];
    });
    expect(dlqs.sort()).toEqual(
      SUBSCRIPTIONS.flatMap((s) => (s.deadLetterTopic ? [s.deadLetterTopic] : [])).sort(),
    );

    const sub = 'google_pubsub_subscription_iam_member.pubsub_agent_source_subscriber';
    const subRes = x.resource(sub);
    const subs = x.instances(sub).map((inst) => {
      expect(attr(subRes, 'member', inst, sub)).toBe('local.pubsub_service_agent');
      expect(literal(attr(subRes, 'role', inst, sub))).toBe('roles/pubsub.subscriber');
      return refs(attr(subRes, 'subscription', inst, sub), 'google_pubsub_subscription.push')[0];
    });
    expect(subs.sort()).toEqual(
      SUBSCRIPTIONS.filter((s) => s.deadLetterTopic)
        .map((s) => s.name)
        .sort(),
    );

    const token = x.resource('google_service_account_iam_member.pubsub_agent_token_creator');
    expect(expr(token.service_account_id, 'service_account_id')).toBe('google_service_account.push.name');
    expect(expr(token.role, 'role')).toBe('"roles/iam.serviceAccountTokenCreator"');
    expect(expr(token.member, 'member')).toBe('local.pubsub_service_agent');
  });

  it('Firestore: native database, every composite index the queries need, a TTL policy on every expiry field', () => {
    const db = x.resource('google_firestore_database.db');
    expect(expr(db.type, 'type')).toBe('"FIRESTORE_NATIVE"');
    expect(expr(db.name, 'name')).toBe('"(default)"');

    const address = 'google_firestore_index.composite';
    const r = x.resource(address);
    const dyn = obj(r.dynamic, 'dynamic');
    const fieldsBlock = obj((dyn.fields as Json[])[0], 'dynamic fields');
    const content = obj((fieldsBlock.content as Json[])[0], 'content');
    expect(expr(content.field_path, 'field_path')).toBe('fields.value.field_path');
    expect(expr(content.order, 'order')).toBe('fields.value.order');
    const declared = x.instances(address).map((inst) => {
      expect(attr(r, 'database', inst, address)).toBe('google_firestore_database.db.name');
      const fields = JSON.parse(bind(expr(fieldsBlock.for_each, 'for_each'), inst)) as {
        field_path: string;
        order: string;
      }[];
      const collection = literal(attr(r, 'collection', inst, address));
      return `${collection}: ${fields.map((f) => `${f.field_path} ${f.order}`).join(', ')}`;
    });
    expect(declared.sort()).toEqual(
      INDEXES.map(
        (ix) => `${ix.collection}: ${ix.fields.map((f) => `${f.field} ${f.order}`).join(', ')}`,
      ).sort(),
    );

    const ttlAddress = 'google_firestore_field.ttl';
    const ttl = x.resource(ttlAddress);
    expect(hasBlock(ttl, 'ttl_config')).toBe(true);
    const ttlDeclared = x
      .instances(ttlAddress)
      .map(
        (inst) =>
          `${literal(attr(ttl, 'collection', inst, ttlAddress))}.${literal(attr(ttl, 'field', inst, ttlAddress))}`,
      );
    expect(ttlDeclared.sort()).toEqual(TTL_FIELDS.map((t) => `${t.collection}.${t.field}`).sort());
    // The TTL fields' single-field indexes are disabled: no composite index may rely on them.
    for (const t of TTL_FIELDS) {
      for (const ix of INDEXES.filter((i) => i.collection === t.collection)) {
        expect(ix.fields.map((f) => f.field)).not.toContain(t.field);
      }
    }
  });

  it('Cloud Scheduler publishes a tick the sweeper accepts to the topic the sweeper consumes', () => {
    const job = x.resource('google_cloud_scheduler_job.sweep');
    const target = block(job, 'pubsub_target', 'sweep');
    expect(expr(target.topic_name, 'topic_name')).toBe('google_pubsub_topic.topic[var.sweep.topic].id');
    expect(expr(target.data, 'data')).toBe('base64encode(jsonencode(var.sweep.message))');
    expect(generated.sweep.topic).toBe(TOPICS.sagaTicks);
    expect(SUBSCRIPTIONS.filter((s) => s.topic === generated.sweep.topic).map((s) => s.consumer)).toEqual([
      'sweeper',
    ]);
    expect(tickSchema.safeParse(generated.sweep.message).success).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Capacity and delivery settings (terraform/README.md, "Capacity and delivery settings"). The preconditions are
// evaluated, not just found: a small evaluator for the operators they use (|| && == != < <= > >= + - * /), after
// substituting each.*, var.*, and the locals this configuration computes.

interface FunctionSettings {
  cpu: string;
  memory: string;
  concurrency: number;
  min_instances: number;
  max_instances: number;
  timeout_seconds: number;
}

type Value = number | string | boolean;

function evaluate(e: string): Value {
  const tokens = e.match(/\s*("[^"]*"|\d+(?:\.\d+)?|\|\||&&|==|!=|<=|>=|[<>+\-*/()]|true|false)/gy);
  if (!tokens || tokens.join('').length !== e.length) throw new Error(`cannot evaluate: ${e}`);
  const ts = tokens.map((t) => t.trim());
  let pos = 0;
  const binary = (ops: string[], next: () => Value) => (): Value => {
    let left = next();
    while (pos < ts.length && ops.includes(ts[pos]!)) {
      const op = ts[pos++]!;
      const right = next();
      if (op === '==' || op === '!=') left = (left === right) === (op === '==');
      else if (op === '||' || op === '&&')
        left = op === '||' ? left === true || right === true : left === true && right === true;
      else {
        if (typeof left !== 'number' || typeof right !== 'number')
          throw new Error(`${op} needs numbers: ${e}`);
        left = {
          '<': left < right,
          '<=': left <= right,
          '>': left > right,
          '>=': left >= right,
          '+': left + right,
          '-': left - right,
          '*': left * right,
          '/': left / right,
        }[op]!;
      }
    }
    return left;
  };
  const primary = (): Value => {
    const t = ts[pos++];
    if (t === '(') {
      const v = or();
      if (ts[pos++] !== ')') throw new Error(`unbalanced: ${e}`);
      return v;
    }
    if (t === 'true' || t === 'false') return t === 'true';
    if (t !== undefined && t.startsWith('"')) return JSON.parse(t) as string;
    if (t !== undefined && /^\d/.test(t)) return Number(t);
    throw new Error(`unexpected ${t} in ${e}`);
  };
  const mul = binary(['*', '/'], primary);
  const add = binary(['+', '-'], mul);
  const cmp = binary(['<', '<=', '>', '>='], add);
  const eq = binary(['==', '!='], cmp);
  const and = binary(['&&'], eq);
  const or = binary(['||'], and);
  const v = or();
  if (pos !== ts.length) throw new Error(`trailing tokens in ${e}`);
  return v;
}

/** Seconds of retry backoff before dead-lettering when every delivery fails at once (local.retry_budget_seconds). */
function retryBudgetSeconds(attempts: number, minBackoff: number, maxBackoff: number): number {
  let total = 0;
  for (let i = 0; i < attempts - 1; i++) total += Math.min(minBackoff * 2 ** i, maxBackoff);
  return total;
}

/** The deployment as terraform sees it with some variables set (the rest: defaults and the generated topology). */
class Deployment {
  readonly x: Expander;
  constructor(readonly overrides: Obj = {}) {
    this.x = new Expander(tf, { ...(JSON.parse(committed) as Obj), ...overrides });
  }

  num(name: string): number {
    const v = this.x.variable(name);
    if (typeof v !== 'number') throw new Error(`var.${name}: expected a number, got ${JSON.stringify(v)}`);
    return v;
  }

  /** local.function_settings[name]: the function's own entry of var.function_settings, else "default". */
  settings(name: string): FunctionSettings {
    const table = obj(this.x.variable('function_settings'), 'function_settings');
    return obj(table[name] ?? table.default, `function_settings[${name}]`) as unknown as FunctionSettings;
  }

  retryBudgetSeconds(): number {
    return retryBudgetSeconds(
      this.num('max_delivery_attempts'),
      this.num('retry_min_backoff_seconds'),
      this.num('retry_max_backoff_seconds'),
    );
  }

  /** local.sweeper_function: the consumer of the topic Cloud Scheduler publishes to. */
  sweeper(): string {
    const sweep = obj(this.x.variable('sweep'), 'sweep');
    const subs = Object.values(obj(this.x.variable('subscriptions'), 'subscriptions')).map((s) =>
      obj(s, 's'),
    );
    const consumers = subs.filter((s) => s.topic === sweep.topic).map((s) => str(s.consumer, 'consumer'));
    expect(consumers).toHaveLength(1);
    return consumers[0]!;
  }

  /** Evaluates an expression of a resource instance. */
  value(e: string, inst: Instance): Value {
    const substituted = bind(e, inst)
      .replace(/local\.function_settings\["([^"]+)"\]\.(\w+)/g, (_, fn: string, a: string) =>
        JSON.stringify((this.settings(fn) as unknown as Obj)[a]),
      )
      .replace(/local\.retry_budget_seconds\b/g, () => String(this.retryBudgetSeconds()))
      .replace(/local\.sweeper_function\b/g, () => JSON.stringify(this.sweeper()))
      .replace(/var\.(\w+)((?:\.\w+)*)/g, (_, name: string, path: string) => {
        let v = this.x.variable(name);
        for (const key of path.split('.').slice(1)) v = obj(v, `var.${name}`)[key];
        return JSON.stringify(v);
      });
    return evaluate(substituted);
  }

  /** The preconditions of a resource that fail for some instance, as "<key>: <condition>". */
  failedPreconditions(address: string): string[] {
    const r = this.x.resource(address);
    const conditions = blocks(r, 'lifecycle').flatMap((l) => blocks(l, 'precondition'));
    expect(conditions.length).toBeGreaterThan(0);
    return this.x.instances(address).flatMap((inst) =>
      conditions
        .map((c) => expr(c.condition, `${address}.precondition`))
        .filter((c) => this.value(c, inst) !== true)
        .map((c) => `${inst.key}: ${c}`),
    );
  }
}

// Requests per saga that reach a function (the larger saga, trip-booking: 4 steps, each with a forward command,
// its reply, and at worst a compensation and its reply), and a pessimistic time per request (typically ~0.1 s).
const REQUESTS_PER_SAGA = { api: 5, orchestrator: 8, participant: 2 } as const;
const PESSIMISTIC_REQUEST_SECONDS = 1;

describe('capacity and delivery settings (terraform/README.md, "Capacity and delivery settings")', () => {
  const d = () => new Deployment();
  const names = () => FUNCTION_KEYS.map(deployedName);

  it('every function runs with its own entry of function_settings, else the "default" entry', () => {
    expect(expr(tf.locals.get('function_settings'), 'function_settings')).toBe(
      '{ for name in keys(var.functions) : name => lookup(var.function_settings, name, var.function_settings["default"]) }',
    );
    const address = 'google_cloudfunctions2_function.fn';
    const service = block(x.resource(address), 'service_config', address);
    for (const inst of x.instances(address)) {
      const setting = (a: string) => `local.function_settings[${JSON.stringify(inst.key)}].${a}`;
      expect({
        cpu: attr(service, 'available_cpu', inst, address),
        memory: attr(service, 'available_memory', inst, address),
        concurrency: attr(service, 'max_instance_request_concurrency', inst, address),
        min: attr(service, 'min_instance_count', inst, address),
        max: attr(service, 'max_instance_count', inst, address),
        timeout: attr(service, 'timeout_seconds', inst, address),
      }).toEqual({
        cpu: setting('cpu'),
        memory: setting('memory'),
        concurrency: setting('concurrency'),
        min: setting('min_instances'),
        max: setting('max_instances'),
        timeout: setting('timeout_seconds'),
      });
    }
    // The entries name deployed functions (a typo would silently fall back to "default").
    const table = obj(tf.variables.get('function_settings')!.default, 'function_settings');
    for (const name of Object.keys(table)) expect(['default', ...names()]).toContain(name);
  });

  it('every function serves many requests per instance (429s are failed deliveries), with the vCPU that needs', () => {
    for (const name of names()) {
      const s = d().settings(name);
      // Pub/Sub counts a 429 (every instance busy) as a failed delivery: at concurrency 1 a burst dead-letters.
      expect({ name, concurrency: s.concurrency > 1 }).toEqual({ name, concurrency: true });
      // Cloud Functions 2nd gen accepts concurrency > 1 only with at least one vCPU.
      expect({ name, cpu: Number(s.cpu) >= 1 }).toEqual({ name, cpu: true });
      expect({ name, memory: s.memory }).toEqual({ name, memory: '512Mi' });
      expect(s.min_instances).toBeLessThanOrEqual(s.max_instances);
    }
    const validations = blocks(tf.variables.get('function_settings')!, 'validation').map((v) =>
      expr(v.condition, 'condition'),
    );
    expect(validations).toContain(
      'alltrue([for name, s in var.function_settings : s.concurrency == 1 || try(tonumber(s.cpu) >= 1, false)])',
    );
  });

  it('at throughput_per_second, the functions on the saga path have request slots to spare at 1 s per request', () => {
    const dep = d();
    const throughput = dep.num('throughput_per_second');
    expect(throughput).toBe(100);
    const commandTopics = FUNCTION_SPECS.find((f) => f.key === 'orchestrator')!.publishes;
    const participants = [
      ...new Set(
        SUBSCRIPTIONS.filter((s) => commandTopics.includes(s.topic)).map((s) => deployedName(s.consumer)),
      ),
    ];
    expect(participants.length).toBeGreaterThan(0);
    const needs: [string, number][] = [
      ['api', REQUESTS_PER_SAGA.api],
      ['orchestrator', REQUESTS_PER_SAGA.orchestrator],
      ...participants.map((p): [string, number] => [p, REQUESTS_PER_SAGA.participant]),
    ];
    for (const [name, perSaga] of needs) {
      const s = dep.settings(name);
      const slots = s.max_instances * s.concurrency;
      const needed = throughput * perSaga * PESSIMISTIC_REQUEST_SECONDS;
      expect({ name, slots, enough: slots >= needed }).toEqual({ name, slots, enough: true });
    }
  });

  it("the retries outlast a cold start and a command's schedule-to-start before anything is dead-lettered", () => {
    expect(expr(tf.locals.get('retry_budget_seconds'), 'retry_budget_seconds')).toBe(
      'sum([for i in range(var.max_delivery_attempts - 1) : min(var.retry_min_backoff_seconds * pow(2, i), var.retry_max_backoff_seconds)])',
    );
    const dep = d();
    const attempts = dep.num('max_delivery_attempts');
    const minBackoff = dep.num('retry_min_backoff_seconds');
    expect(dep.retryBudgetSeconds()).toBe(2430); // 10+20+40+80+160+320+600+600+600 s: ~40 min
    expect(dep.retryBudgetSeconds()).toBeGreaterThanOrEqual(dep.num('schedule_to_start_ms') / 1000);
    expect(dep.retryBudgetSeconds()).toBeGreaterThanOrEqual(30 * 60);
    // Even if Pub/Sub never grew the backoff: over a minute, several cold starts and a scale-out.
    expect((attempts - 1) * minBackoff).toBeGreaterThanOrEqual(60);
    // The first retry comes after a cold start (a few seconds) has had time to finish.
    expect(minBackoff).toBeGreaterThanOrEqual(10);

    expect(dep.failedPreconditions('google_pubsub_subscription.push')).toEqual([]);
    // The emulator's defaults (5 attempts, 1-10 s) would dead-letter after 15 s: plan refuses them in the cloud.
    const local = new Deployment({
      max_delivery_attempts: 5,
      retry_min_backoff_seconds: 1,
      retry_max_backoff_seconds: 10,
    });
    expect(local.retryBudgetSeconds()).toBe(15);
    expect(local.failedPreconditions('google_pubsub_subscription.push')).toHaveLength(
      x.instances('google_pubsub_subscription.push').length,
    );
    expect(
      new Deployment({
        schedule_to_start_ms: 60000,
        max_delivery_attempts: 5,
        retry_min_backoff_seconds: 10,
      }).failedPreconditions('google_pubsub_subscription.push'),
    ).toEqual([]);
  });

  it('a sweeper invocation spends its budget within its timeout and ack deadline, and before the next tick', () => {
    const dep = d();
    const sweeper = dep.sweeper();
    expect(sweeper).toBe(deployedName('sweeper'));
    expect(expr(tf.locals.get('sweeper_function'), 'sweeper_function')).toBe(
      'one([for s in values(var.subscriptions) : s.consumer if s.topic == var.sweep.topic])',
    );
    const budget = dep.num('sweep_budget_ms');
    expect(budget).toBe(50000);
    expect(dep.settings(sweeper).timeout_seconds * 1000).toBeGreaterThan(
      budget + dep.num('sweep_interval_ms'),
    );
    // Cloud Scheduler ticks once a minute: a sweep ends before the next one starts.
    expect(dep.x.variable('sweep_schedule')).toBe('* * * * *');
    expect(budget).toBeLessThan(60000);

    expect(dep.failedPreconditions('google_cloudfunctions2_function.fn')).toEqual([]);
    expect(dep.failedPreconditions('google_pubsub_subscription.push')).toEqual([]);
    const tooLong = new Deployment({ sweep_budget_ms: dep.settings(sweeper).timeout_seconds * 1000 });
    expect(tooLong.failedPreconditions('google_cloudfunctions2_function.fn')).toEqual([
      expect.stringMatching(new RegExp(`^${sweeper}: `)),
    ]);
    expect(tooLong.failedPreconditions('google_pubsub_subscription.push')).toEqual([
      expect.stringMatching(/^saga-ticks--sweeper: /),
    ]);
  });

  it('terraform.tfvars.example shows the default function_settings table', () => {
    const example = readFileSync(path.join(TF_DIR, 'terraform.tfvars.example'), 'utf8');
    const shown: Obj = {};
    for (const m of example.matchAll(/^#\s+"([\w-]+)"\s*=\s*\{(.*)\}\s*$/gm)) {
      shown[m[1]!] = Object.fromEntries(
        [...m[2]!.matchAll(/(\w+) = ("[^"]*"|\d+)/g)].map((kv) => [kv[1]!, JSON.parse(kv[2]!) as Json]),
      );
    }
    expect(shown).toEqual(tf.variables.get('function_settings')!.default);
  });

  it('the README explains the settings of every function', () => {
    const readme = readFileSync(path.join(TF_DIR, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Capacity and delivery settings'));
    expect(section).toBeDefined();
    for (const name of ['default', ...names()]) expect(section).toMatch(new RegExp(`^\\| \`${name}\``, 'm'));
    expect(section).toContain('2430');
  });
});

describe('terraform configuration', () => {
  it('pins terraform >= 1.5 and the hashicorp/google provider to one major version', () => {
    expect(tf.terraform.required_version).toBe('>= 1.5');
    const providers = obj((tf.terraform.required_providers as Json[])[0], 'required_providers');
    const google = obj(providers.google, 'google');
    expect(google.source).toBe('hashicorp/google');
    expect(str(google.version, 'version')).toMatch(/^~> \d+\.0$/);
  });

  it('enables the APIs the resources need', () => {
    const services = x.instances('google_project_service.enabled').map((i) => i.key);
    for (const api of [
      'cloudfunctions.googleapis.com',
      'run.googleapis.com',
      'cloudbuild.googleapis.com',
      'artifactregistry.googleapis.com',
      'pubsub.googleapis.com',
      'firestore.googleapis.com',
      'cloudscheduler.googleapis.com',
      'cloudtrace.googleapis.com',
      'iam.googleapis.com',
      'storage.googleapis.com',
      'monitoring.googleapis.com',
    ]) {
      expect(services).toContain(api);
    }
  });

  it('service account ids fit in 30 characters for every function, even with the longest allowed prefix', () => {
    const prefix = tf.variables.get('name_prefix')!;
    const condition = expr(block(prefix, 'validation', 'name_prefix').condition, 'condition');
    expect(condition).toContain('{1,10}'); // 3-12 characters
    const longest = 'p'.repeat(12);
    for (const name of FUNCTION_KEYS.map(deployedName)) {
      expect(`${longest}-fn-${name}`.length).toBeLessThanOrEqual(30);
      expect(name).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    }
  });

  it('documents every variable, and terraform.tfvars.example only sets declared variables', () => {
    for (const [name, decl] of tf.variables) {
      expect({ name, description: typeof decl.description === 'string' }).toEqual({
        name,
        description: true,
      });
    }
    const example = readFileSync(path.join(TF_DIR, 'terraform.tfvars.example'), 'utf8');
    const set = [...example.matchAll(/^#?\s*(\w+)\s*=/gm)].map((m) => m[1]!);
    expect(set).toContain('project_id');
    for (const name of set)
      expect({ name, declared: tf.variables.has(name) }).toEqual({ name, declared: true });
  });

  it('outputs the API URL, topic and subscription names', () => {
    for (const name of [
      'api_url',
      'topics',
      'dead_letter_topics',
      'push_subscriptions',
      'dead_letter_pull_subscriptions',
    ]) {
      expect(tf.outputs.has(name)).toBe(true);
    }
    expect(expr(tf.outputs.get('api_url')!.value, 'api_url')).toBe(
      'google_cloudfunctions2_function.fn[var.api_function].service_config[0].uri',
    );
  });

  it('has a README with the Deploy section', () => {
    expect(existsSync(path.join(TF_DIR, 'README.md'))).toBe(true);
    const readme = readFileSync(path.join(TF_DIR, 'README.md'), 'utf8');
    for (const step of [
      'npm run package',
      'terraform init',
      'terraform apply',
      'terraform destroy',
      'identity-token',
    ]) {
      expect(readme).toContain(step);
    }
  });
});

/**
 * Evaluates a variable's validation condition for a value, for the functions the conditions use:
 * can(regex("...", var.x)), tonumber(trimsuffix(var.x, "s")) and an outer try(..., false).
 */
function validates(condition: string, name: string, value: string): boolean {
  const ref = `var\\.${name}`;
  const substitute = (e: string) =>
    e
      .replace(new RegExp(`can\\(regex\\(("(?:[^"\\\\]|\\\\.)*"), ${ref}\\)\\)`, 'g'), (_, re: string) =>
        String(new RegExp(JSON.parse(re) as string).test(value)),
      )
      .replace(new RegExp(`tonumber\\(trimsuffix\\(${ref}, "s"\\)\\)`, 'g'), () => {
        const n = value.endsWith('s') ? value.slice(0, -1) : value;
        if (!/^\d+(\.\d+)?$/.test(n)) throw new Error(`tonumber("${n}") fails`);
        return n;
      });
  const guarded = /^try\(([\s\S]*), false\)$/.exec(condition);
  try {
    return evaluate(substitute(guarded ? guarded[1]! : condition)) === true;
  } catch (err) {
    if (guarded) return false;
    throw err;
  }
}

describe('plan stability, least privilege and Pub/Sub bounds', () => {
  it('no data source waits for anything (google_project.number stays known at plan)', () => {
    // With depends_on = [google_project_service.enabled], adding an API defers the read to apply: `number` is then
    // unknown at plan and every IAM member built on the Pub/Sub service agent's address is replaced.
    const project = tf.data.get('google_project.this');
    expect(project).toBeDefined();
    expect(expr(project!.project_id, 'project_id')).toBe('var.project_id');
    for (const [address, d] of tf.data) expect({ address, dependsOn: d.depends_on }).toEqual({ address });
    expect(expr(tf.locals.get('pubsub_service_agent'), 'pubsub_service_agent')).toContain(
      'data.google_project.this.number',
    );
  });

  it('the build account has the roles Google documents for a functions build, not cloudbuild.builds.builder', () => {
    const address = 'google_project_iam_member.build';
    const r = x.resource(address);
    const roles = x.instances(address).map((inst) => {
      expect(attr(r, 'member', inst, address)).toBe('google_service_account.build.member');
      return literal(attr(r, 'role', inst, address));
    });
    expect(roles.sort()).toEqual([
      'roles/artifactregistry.writer',
      'roles/logging.logWriter',
      'roles/storage.objectViewer',
    ]);
    for (const [other, res] of tf.resources) {
      if (!other.startsWith('google_project_iam_')) continue;
      for (const inst of x.instances(other)) {
        expect(literal(attr(res, 'role', inst, other))).not.toBe('roles/cloudbuild.builds.builder');
      }
    }
    // Every function builds with it, once its roles are granted.
    const fn = x.resource('google_cloudfunctions2_function.fn');
    const build = block(fn, 'build_config', 'fn');
    expect(expr(build.service_account, 'service_account')).toBe('google_service_account.build.id');
    expect(fn.depends_on).toContain('${google_project_iam_member.build}');
    // The README says where the list comes from.
    const readme = readFileSync(path.join(TF_DIR, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    for (const role of roles) expect(readme).toContain(`\`${role}\``);
    expect(readme).toContain('"Set build service account (source deploy)"');
  });

  it('dead-letter retention is bounded to what Pub/Sub accepts: 600 s to 31 days', () => {
    const decl = tf.variables.get('dead_letter_retention')!;
    const conditions = blocks(decl, 'validation').map((v) => expr(v.condition, 'condition'));
    const valid = (value: string) => conditions.every((c) => validates(c, 'dead_letter_retention', value));
    expect(valid(str(decl.default, 'default'))).toBe(true);
    for (const value of ['600s', '86400s', '2678400s'])
      expect({ value, valid: valid(value) }).toEqual({ value, valid: true });
    for (const value of ['599s', '0s', '2678401s', '7d', '60.5s', 's', ''])
      expect({ value, valid: valid(value) }).toEqual({ value, valid: false });

    // Every subscription keeps messages for that variable or a literal within the same bounds.
    for (const [address, r] of tf.resources) {
      if (!address.startsWith('google_pubsub_subscription.')) continue;
      const retention = expr(r.message_retention_duration, `${address}.message_retention_duration`);
      if (retention === 'var.dead_letter_retention') continue;
      expect({ address, valid: valid(literal(retention) ?? retention) }).toEqual({ address, valid: true });
    }
    expect(
      expr(x.resource('google_pubsub_subscription.dead_letter_pull').message_retention_duration, 'r'),
    ).toBe('var.dead_letter_retention');
  });

  it('the README warns that changing ordering replaces a subscription and that a first apply may need a second', () => {
    const readme = readFileSync(path.join(TF_DIR, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toMatch(/ordering \(`enable_message_ordering`[^)]*\) replaces the subscription/);
    expect(readme).toMatch(/its backlog [^.]* is lost/);
    expect(readme).toContain('A first `terraform apply` may need a second one');
  });
});

describe('source archive (npm run package)', () => {
  it('is deterministic: same files in any order give the same bytes', () => {
    const a = zip([
      { name: 'dist/b.js', data: Buffer.from('b') },
      { name: 'package.json', data: Buffer.from('{}') },
      { name: 'dist/a.js', data: Buffer.from('') },
    ]);
    const b = zip([
      { name: 'package.json', data: Buffer.from('{}') },
      { name: 'dist/a.js', data: Buffer.from('') },
      { name: 'dist/b.js', data: Buffer.from('b') },
    ]);
    expect(a.equals(b)).toBe(true);
    expect(zipEntryNames(a)).toEqual(['dist/a.js', 'dist/b.js', 'package.json']);
    expect(zip([{ name: 'dist/a.js', data: Buffer.from('changed') }]).equals(a)).toBe(false);
  });

  it('rejects unsafe or duplicate entry names', () => {
    expect(() => zip([{ name: '../x', data: Buffer.alloc(0) }])).toThrow(/invalid/);
    expect(() => zip([{ name: '/x', data: Buffer.alloc(0) }])).toThrow(/invalid/);
    expect(() =>
      zip([
        { name: 'x', data: Buffer.alloc(0) },
        { name: 'x', data: Buffer.alloc(1) },
      ]),
    ).toThrow(/duplicate/);
  });

  it('ships package.json without scripts (the code is prebuilt; the buildpack only installs) but with main', () => {
    const pkg = JSON.parse(deployedPackageJson(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))) as Obj;
    expect(pkg.scripts).toBeUndefined();
    expect(pkg.main).toBe('dist/functions/index.js');
    expect(obj(pkg.dependencies, 'dependencies')['@google-cloud/functions-framework']).toBeDefined();
  });
});
