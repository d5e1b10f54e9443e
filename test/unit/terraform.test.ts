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
import { tickSchema } from '../../shared/messages';
import { INDEXES, TTL_FIELDS } from '../../shared/store/collections';
import {
  DLQ_TOPICS,
  FUNCTION_KEYS,
  FUNCTION_SPECS,
  FUNCTIONS,
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
  return { resources, variables, locals, outputs, terraform };
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
      // Pub/Sub waits ack_deadline_seconds for the push response: it must cover the function timeout.
      expect(attr(r, 'ack_deadline_seconds', inst, what)).toBe('var.function_timeout_seconds');

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
    const timeout = tf.variables.get('function_timeout_seconds')!;
    const validation = expr(block(timeout, 'validation', 'function_timeout_seconds').condition, 'condition');
    expect(validation).toMatch(/var\.function_timeout_seconds <= 600/); // Pub/Sub's maximum ack deadline
    const fn = x.resource('google_cloudfunctions2_function.fn');
    const inst = x.instances('google_cloudfunctions2_function.fn')[0]!;
    expect(attr(block(fn, 'service_config', 'fn'), 'timeout_seconds', inst, 'fn')).toBe(
      'var.function_timeout_seconds',
    );
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
      expect(literal(attr(build, 'entry_point', inst, what))).toBe(FUNCTIONS[key].target);
      // The target is exported by the archive's main module (package.json "main": dist/functions/index.js).
      expect(indexSource).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${FUNCTIONS[key].target}\\b[^}]*\\}`));
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

  it('the functions get every setting shared/config.ts reads in the cloud, and only variables it reads', () => {
    const configSource = readFileSync(path.join(ROOT, 'shared', 'config.ts'), 'utf8');
    const env = obj(tf.locals.get('function_env'), 'local.function_env');
    for (const name of [
      'GOOGLE_CLOUD_PROJECT',
      'SAGA_STEP_TIMEOUT_MS',
      'SAGA_MAX_DELIVERY_ATTEMPTS',
      'SAGA_RETRY_MIN_BACKOFF_S',
      'SAGA_RETRY_MAX_BACKOFF_S',
      'SAGA_OUTBOX_GRACE_MS',
      'SAGA_COMPENSATION_MAX_ATTEMPTS',
      'SAGA_LOG_LEVEL',
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

  it('runtime accounts get Firestore and nothing else at project level; nobody gets Pub/Sub roles project-wide', () => {
    for (const [address, r] of tf.resources) {
      if (!address.startsWith('google_project_iam_')) continue;
      for (const inst of x.instances(address)) {
        const role = literal(attr(r, 'role', inst, address)) ?? '';
        expect(role.startsWith('roles/pubsub.')).toBe(false);
        expect(['roles/owner', 'roles/editor']).not.toContain(role);
        if (refs(attr(r, 'member', inst, address), 'google_service_account.runtime').length > 0) {
          expect(role).toBe('roles/datastore.user');
        }
      }
    }
    const firestore = x.instances('google_project_iam_member.runtime_firestore').map((i) => i.key);
    expect(firestore.sort()).toEqual(FUNCTION_KEYS.map(deployedName).sort());
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
      'iam.googleapis.com',
      'storage.googleapis.com',
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
