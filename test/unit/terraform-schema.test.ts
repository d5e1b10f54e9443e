/**
 * terraform/*.tf against the google provider's real schema (terraform/schema/google-provider.schema.json, written
 * by `npm run terraform:schema` from @cdktf/provider-google): what `terraform validate` would report about names
 * and shapes, without the provider binary. Pure: hcl2json and the committed JSON, no network, no emulator.
 *
 * The deliberately broken snippets below prove the checker rejects each kind of mistake with a clear message; the
 * real configuration must pass.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { convertFiles, parse } from '@cdktf/hcl2json';
import { checkConfiguration, expressionCodes, suggestion } from '../../terraform/schema/check';
import {
  buildSchema,
  extractTypeSchema,
  generatedSource,
  modulePath,
  readTarGz,
  renderSchema,
  typesOf,
} from '../../terraform/schema/extract';
import { loadProviderSchema, SCHEMA_PATH, type ProviderSchema } from '../../terraform/schema/schema';

const ROOT = path.resolve(__dirname, '..', '..');
const TF_DIR = path.join(ROOT, 'terraform');

type Obj = Record<string, unknown>;

let schema: ProviderSchema;
let real: Obj;

beforeAll(async () => {
  schema = loadProviderSchema(ROOT);
  real = (await convertFiles(TF_DIR)) as Obj;
});

const sorted = (problems: string[]) => [...problems].sort();
const check = async (hcl: string) => checkConfiguration((await parse('snippet.tf', hcl)) as Obj, schema);

describe('the extracted provider schema', () => {
  it('names the package and the provider version it was generated from', () => {
    expect(schema.package).toBe('@cdktf/provider-google');
    expect(schema.packageVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(schema.provider).toBe('registry.terraform.io/hashicorp/google');
    expect(schema.providerVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('covers exactly the resource and data-source types terraform/*.tf uses', () => {
    // If this fails: a type was added to or removed from terraform/*.tf; run `npm run terraform:schema`.
    const used = typesOf(real);
    expect(Object.keys(schema.resources).sort()).toEqual(used.resources);
    expect(Object.keys(schema.dataSources).sort()).toEqual(used.dataSources);
  });

  it('carries what the checks need: required flags, block nesting and limits, computed attributes, enums', () => {
    const sub = schema.resources.google_pubsub_subscription!;
    expect(sub.attributes.topic).toEqual({ type: 'string', required: true });
    expect(sub.blocks.push_config).toMatchObject({ nesting: 'list', maxItems: 1 });
    expect(sub.blocks.push_config!.blocks.oidc_token!.attributes.service_account_email!.required).toBe(true);
    const fn = schema.resources.google_cloudfunctions2_function!;
    expect(fn.blocks.service_config!.attributes.uri).toEqual({ type: 'string', computed: true });
    expect(fn.blocks.service_config!.attributes.ingress_settings!.enum).toContain('ALLOW_INTERNAL_ONLY');
    expect(schema.resources.google_firestore_index!.blocks.fields).toMatchObject({
      nesting: 'list',
      required: true,
    });
    expect(schema.dataSources.google_project!.attributes.number).toEqual({ type: 'string', computed: true });
  });
});

describe('terraform/*.tf against the provider schema', () => {
  it('every resource and data block, and every reference to one, is valid', () => {
    expect(checkConfiguration(real, schema)).toEqual([]);
  });

  it('rejects the real configuration with a mistake put in (the check is not vacuous)', () => {
    const copy = JSON.parse(JSON.stringify(real)) as {
      resource: Record<string, Record<string, Obj[]>>;
      output: Record<string, Obj[]>;
    };
    const push = copy.resource.google_pubsub_subscription!.push![0]!;
    delete push.topic;
    const pushConfig = (push.push_config as Obj[])[0]!;
    pushConfig.push_endpont = pushConfig.push_endpoint;
    delete pushConfig.push_endpoint;
    push.retry_policy = [...(push.retry_policy as Obj[]), {}];
    copy.output.api_url![0]!.value =
      '${google_cloudfunctions2_function.fn[var.api_function].service_config[0].url}';
    expect(checkConfiguration(copy, schema)).toEqual(
      sorted([
        'google_pubsub_subscription.push: push_config.push_endpont: unknown argument or block (did you mean "push_endpoint"?)',
        'google_pubsub_subscription.push: push_config: missing required argument "push_endpoint"',
        'google_pubsub_subscription.push: missing required argument "topic"',
        'google_pubsub_subscription.push: retry_policy: at most 1 retry_policy block allowed, found 2',
        'output.api_url.value: reference google_cloudfunctions2_function.fn[var.api_function].service_config[0].url: service_config has no attribute "url" (did you mean "uri"?)',
      ]),
    );
  });
});

describe('the checker rejects deliberate mistakes with a clear message', () => {
  const cases: [string, string, string[]][] = [
    [
      'a misspelled argument',
      `resource "google_pubsub_topic" "t" {
         name                       = "t"
         message_retention_duraton = "600s"
       }`,
      [
        'google_pubsub_topic.t: message_retention_duraton: unknown argument or block (did you mean "message_retention_duration"?)',
      ],
    ],
    [
      'a block used as an argument, and an argument used as a block',
      `resource "google_pubsub_subscription" "s" {
         name        = "s"
         topic       = "t"
         push_config = { push_endpoint = "https://example.com" }
         labels {
           team = "saga"
         }
       }`,
      [
        'google_pubsub_subscription.s: push_config: is a block: write `push_config { ... }`, not `push_config = ...`',
        'google_pubsub_subscription.s: labels: is an argument (map(string)), not a block: write `labels = ...`',
      ],
    ],
    [
      'a missing required argument, at the top and in a nested block',
      `resource "google_pubsub_subscription" "s" {
         name = "s"
         push_config {
           push_endpoint = "https://example.com"
           oidc_token {
             audience = "https://example.com"
           }
         }
       }`,
      [
        'google_pubsub_subscription.s: push_config.oidc_token: missing required argument "service_account_email"',
        'google_pubsub_subscription.s: missing required argument "topic"',
      ],
    ],
    [
      'a single (max 1) block repeated',
      `resource "google_pubsub_subscription" "s" {
         name  = "s"
         topic = "t"
         retry_policy {
           minimum_backoff = "10s"
         }
         retry_policy {
           maximum_backoff = "600s"
         }
       }`,
      ['google_pubsub_subscription.s: retry_policy: at most 1 retry_policy block allowed, found 2'],
    ],
    [
      'a bad enum value, literal or in a conditional',
      `resource "google_firestore_database" "db" {
         name        = "(default)"
         location_id = "nam5"
         type        = "NATIVE"
       }
       resource "google_cloudfunctions2_function" "f" {
         name     = "f"
         location = "us-central1"
         service_config {
           ingress_settings = var.public ? "ALLOW_ALL" : "INTERNAL_ONLY"
         }
       }`,
      [
        'google_firestore_database.db: type: "NATIVE" is not one of "FIRESTORE_NATIVE", "DATASTORE_MODE"',
        'google_cloudfunctions2_function.f: service_config.ingress_settings: "INTERNAL_ONLY" is not one of "ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"',
      ],
    ],
    [
      'a wrong attribute of a reference, an undeclared resource, a data source attribute',
      `resource "google_service_account" "push" {
         account_id = "push"
       }
       data "google_project" "p" {}
       resource "google_pubsub_subscription" "s" {
         name  = "s"
         topic = "t"
         push_config {
           push_endpoint = "https://example.com"
           oidc_token {
             service_account_email = google_service_account.push.emial
             audience              = "\${google_service_account.pushh.email}-\${data.google_project.p.project_number}"
           }
         }
       }`,
      [
        'google_pubsub_subscription.s: push_config.oidc_token.service_account_email: reference google_service_account.push.emial: google_service_account has no attribute "emial" (did you mean "email"?)',
        'google_pubsub_subscription.s: push_config.oidc_token.audience: reference google_service_account.pushh.email: google_service_account.pushh is not declared (did you mean "google_service_account.push"?)',
        'google_pubsub_subscription.s: push_config.oidc_token.audience: reference data.google_project.p.project_number: google_project has no attribute "project_number"',
      ],
    ],
    [
      'references with a missing or needless instance key, a block list not indexed, an iteration variable',
      `resource "google_pubsub_topic" "t" {
         for_each = toset(["a", "b"])
         name     = each.key
       }
       resource "google_cloudfunctions2_function" "f" {
         name     = "f"
         location = "us-central1"
       }
       output "x" {
         value = [google_pubsub_topic.t.name, google_cloudfunctions2_function.f["a"].name]
       }
       output "y" {
         value = google_cloudfunctions2_function.f.service_config.uri
       }
       output "z" {
         value = { for k, t in google_pubsub_topic.t : k => t.nmae }
       }`,
      [
        'output.x.value: reference google_pubsub_topic.t.name: google_pubsub_topic.t has for_each: index it, google_pubsub_topic.t[<key>].name',
        'output.x.value: reference google_cloudfunctions2_function.f["a"].name: google_cloudfunctions2_function.f has no for_each or count: it cannot be indexed',
        'output.y.value: reference google_cloudfunctions2_function.f.service_config.uri: service_config is a list of blocks: index it, service_config[0].uri',
        'output.z.value: t.nmae (an instance of google_pubsub_topic.t): google_pubsub_topic has no attribute "nmae" (did you mean "name"?)',
      ],
    ],
    [
      'dynamic blocks: their content is checked, and only blocks can be dynamic',
      `resource "google_firestore_index" "i" {
         collection = "sagas"
         dynamic "fields" {
           for_each = var.fields
           content {
             field_pth = fields.value.path
             order     = "ASC"
           }
         }
         dynamic "query_scope" {
           for_each = [1]
           content {}
         }
       }`,
      [
        'google_firestore_index.i: dynamic "fields".content.field_pth: unknown argument or block (did you mean "field_path"?)',
        'google_firestore_index.i: dynamic "fields".content.order: "ASC" is not one of "ASCENDING", "DESCENDING"',
        'google_firestore_index.i: dynamic "query_scope": query_scope is an argument, not a block: a dynamic block can only generate blocks',
      ],
    ],
    [
      'a required block missing (a dynamic one counts), a read-only attribute set, a literal of the wrong type',
      `resource "google_firestore_index" "i" {
         collection = "sagas"
       }
       resource "google_service_account" "a" {
         account_id = "a"
         email      = "a@example.com"
       }
       resource "google_pubsub_subscription" "s" {
         name                 = "s"
         topic                = "t"
         ack_deadline_seconds = "sixty"
       }`,
      [
        'google_firestore_index.i: missing required block "fields"',
        'google_service_account.a: email: is read-only (computed by the provider) and cannot be set',
        'google_pubsub_subscription.s: ack_deadline_seconds: expects number, got "sixty"',
      ],
    ],
    [
      'an unknown resource type, lifecycle mistakes',
      `resource "google_pubsub_subscriptoin" "s" {
         name = "s"
       }
       resource "google_pubsub_topic" "t" {
         name = "t"
         lifecycle {
           ignore_changes = [labelz]
           precondition {
             condition = true
           }
           prevent_destroyed = true
         }
       }`,
      [
        'google_pubsub_subscriptoin.s: resource type google_pubsub_subscriptoin is not in terraform/schema/google-provider.schema.json (did you mean "google_pubsub_subscription"?): a typo, or a type new to terraform/*.tf (run npm run terraform:schema)',
        'google_pubsub_topic.t: lifecycle.ignore_changes: labelz is not an argument or block of this type (did you mean "labels"?)',
        'google_pubsub_topic.t: lifecycle.precondition: missing required argument "error_message"',
        'google_pubsub_topic.t: lifecycle.prevent_destroyed: unknown lifecycle argument or block (did you mean "prevent_destroy"?)',
      ],
    ],
  ];

  it.each(cases)('%s', async (_what, hcl, expected) => {
    expect(await check(hcl)).toEqual(sorted(expected));
  });

  it('accepts what it should: dynamic blocks, meta-arguments, indexed for_each references, computed attributes', async () => {
    expect(
      await check(`
        resource "google_pubsub_topic" "t" {
          for_each = toset(["a"])
          name     = each.key
          labels   = { team = "saga" }
          lifecycle {
            ignore_changes = [labels]
          }
          depends_on = [google_service_account.a]
        }
        resource "google_service_account" "a" {
          account_id = "a"
        }
        resource "google_firestore_index" "i" {
          collection = "sagas"
          dynamic "fields" {
            for_each = [{ p = "status", o = "ASCENDING" }]
            iterator = f
            content {
              field_path = f.value.p
              order      = f.value.o
            }
          }
        }
        resource "google_pubsub_subscription" "s" {
          name                    = "s-\${google_pubsub_topic.t["a"].name}"
          topic                   = google_pubsub_topic.t["a"].id
          enable_message_ordering = true
          ack_deadline_seconds    = "60"
          expiration_policy {
            ttl = ""
          }
          push_config {
            push_endpoint = "https://example.com"
            oidc_token {
              service_account_email = google_service_account.a.email
            }
          }
        }
        output "o" {
          value = { for k, t in google_pubsub_topic.t : k => [t.id, t.effective_labels["team"]] }
        }`),
    ).toEqual([]);
  });
});

describe('checker helpers', () => {
  it('finds the code of every interpolation, blanking string literals inside it', () => {
    expect(expressionCodes('a-${x.y}-${f("q", m["k"])}')).toEqual(['x.y', 'f("q", m["k"])']);
    expect(expressionCodes('${f("google_x.y.z", "a b ${c}")}')).toEqual(['c', 'f("", "")']);
    expect(expressionCodes('${c ? "a-${google_x.y.z}" : "b"}')).toEqual(['google_x.y.z', 'c ? "" : "b"']);
    expect(expressionCodes('$${not.this}')).toEqual([]);
    expect(expressionCodes('${{ a = 1 }}')).toEqual(['{ a = 1 }']);
  });

  it('suggests only close names', () => {
    expect(suggestion('topc', ['topic', 'name'])).toBe(' (did you mean "topic"?)');
    expect(suggestion('zzzzzz', ['topic', 'name'])).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The extraction (npm run terraform:schema), on a module in the shape cdktf generates (cut down from
// lib/pubsub-subscription), without the package.

const GENERATED = `
export interface GoogleThingConfig extends cdktf.TerraformMetaArguments {
  /**
  * The kind. Possible values: ["A", "B"]
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/thing#kind GoogleThing#kind}
  */
  readonly kind?: string;
  readonly name: string;
}
export interface GoogleThingRetry {
  readonly minimumBackoff?: string;
}
export function googleThingRetryToHclTerraform(struct?: GoogleThingRetry): any {
  const attrs = {
    minimum_backoff: {
      value: cdktf.stringToHclTerraform(struct!.minimumBackoff),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };
}
export class GoogleThingRetryOutputReference extends cdktf.ComplexObject {
  // minimum_backoff - computed: true, optional: true, required: false
  private _minimumBackoff?: string; 
  public get minimumBackoff() {
    return this.getStringAttribute('minimum_backoff');
  }
}
export interface GoogleThingRule {
  readonly action: string;
}
export function googleThingRuleToHclTerraform(struct?: GoogleThingRule | cdktf.IResolvable): any {
  const attrs = {
    action: {
      value: cdktf.stringToHclTerraform(struct!.action),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };
}
export class GoogleThingRuleOutputReference extends cdktf.ComplexObject {
  // action - computed: false, optional: false, required: true
  private _action?: string; 
  public get action() {
    return this.getStringAttribute('action');
  }
}
export class GoogleThingRuleList extends cdktf.ComplexList {
}
export class GoogleThing extends cdktf.TerraformResource {
  public static readonly tfResourceType = "google_thing";

  // kind - computed: false, optional: true, required: false
  private _kind?: string; 
  public get kind() {
    return this.getStringAttribute('kind');
  }

  // labels - computed: false, optional: true, required: false
  private _labels?: { [key: string]: string }; 
  public get labels() {
    return this.getStringMapAttribute('labels');
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }

  // self_link - computed: true, optional: false, required: false
  public get selfLink() {
    return this.getStringAttribute('self_link');
  }

  // retry - computed: false, optional: true, required: false
  private _retry = new GoogleThingRetryOutputReference(this, "retry");
  public get retry() {
    return this._retry;
  }

  // rule - computed: false, optional: false, required: true
  private _rule = new GoogleThingRuleList(this, "rule", true);
  public get rule() {
    return this._rule;
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      kind: {
        value: cdktf.stringToHclTerraform(this._kind),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      labels: {
        value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(this._labels),
        isBlock: false,
        type: "map",
        storageClassType: "stringMap",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      retry: {
        value: googleThingRetryToHclTerraform(this._retry.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GoogleThingRetryList",
      },
      rule: {
        value: cdktf.listMapperHcl(googleThingRuleToHclTerraform, true)(this._rule.internalValue),
        isBlock: true,
        type: "set",
        storageClassType: "GoogleThingRuleList",
      },
    };
  }
}
`;

describe('the extraction (npm run terraform:schema)', () => {
  it('reads flags, types, enums, block nesting and MaxItems 1 out of a generated module', () => {
    expect(extractTypeSchema(GENERATED, 'google_thing', 'resource')).toEqual({
      attributes: {
        kind: { type: 'string', optional: true, enum: ['A', 'B'] },
        labels: { type: 'map(string)', optional: true },
        name: { type: 'string', required: true },
        self_link: { type: 'string', computed: true },
      },
      blocks: {
        retry: {
          nesting: 'list',
          maxItems: 1,
          attributes: { minimum_backoff: { type: 'string', optional: true, computed: true } },
          blocks: {},
        },
        rule: {
          nesting: 'set',
          required: true,
          attributes: { action: { type: 'string', required: true } },
          blocks: {},
        },
      },
    });
  });

  it('fails loudly on what it does not recognise, rather than writing a thin schema', () => {
    expect(() => extractTypeSchema(GENERATED, 'google_other', 'resource')).toThrow(
      /no class with tfResourceType/,
    );
    expect(() => extractTypeSchema(GENERATED, 'google_thing', 'data')).toThrow(/not a TerraformDataSource/);
    const unknownType = GENERATED.replace('storageClassType: "stringMap"', 'storageClassType: "fancyMap"');
    expect(() => extractTypeSchema(unknownType, 'google_thing', 'resource')).toThrow(/labels: unrecognised/);
    const missing = GENERATED.replace(
      '// self_link - computed: true, optional: false',
      '// self_link - computed: false, optional: true',
    );
    expect(() => extractTypeSchema(missing, 'google_thing', 'resource')).toThrow(
      /self_link: an argument missing/,
    );
  });

  it('finds the generated TypeScript in the inline source map, and the module of a type', () => {
    const map = Buffer.from(JSON.stringify({ sourcesContent: ['export class X {}'] })).toString('base64');
    expect(
      generatedSource(`"use strict";\n//# sourceMappingURL=data:application/json;base64,${map}\n`, 'x'),
    ).toBe('export class X {}');
    expect(() => generatedSource('"use strict";', 'x')).toThrow(/no inline source map/);
    expect(modulePath('google_pubsub_subscription', 'resource')).toBe('lib/pubsub-subscription/index.js');
    expect(modulePath('google_project', 'data')).toBe('lib/data-google-project/index.js');
  });

  it('builds the document with the package and provider versions, and renders it deterministically', () => {
    const map = Buffer.from(JSON.stringify({ sourcesContent: [GENERATED] })).toString('base64');
    const files: Record<string, string> = {
      'package.json': JSON.stringify({
        name: '@cdktf/provider-google',
        version: '16.0.0',
        cdktf: { provider: { name: 'registry.terraform.io/hashicorp/google', version: '6.0.0' } },
      }),
      'lib/thing/index.js': `//# sourceMappingURL=data:application/json;base64,${map}\n`,
    };
    const doc = buildSchema({ get: (f) => files[f] }, { resources: ['google_thing'], dataSources: [] });
    expect(doc).toMatchObject({ packageVersion: '16.0.0', providerVersion: '6.0.0', dataSources: {} });
    expect(renderSchema(JSON.parse(renderSchema(doc)) as ProviderSchema)).toBe(renderSchema(doc));
    expect(() =>
      buildSchema({ get: (f) => files[f] }, { resources: ['google_thingy'], dataSources: [] }),
    ).toThrow(/google_thingy: @cdktf\/provider-google@16.0.0 has no lib\/thingy\/index.js/);
  });

  it('the committed JSON is in the rendered form (not edited by hand)', () => {
    const committed = readFileSync(path.join(ROOT, SCHEMA_PATH), 'utf8');
    expect(renderSchema(JSON.parse(committed) as ProviderSchema)).toBe(committed);
  });

  it('reads the wanted files out of a .tgz, with ustar prefixes and pax long names', async () => {
    const header = (name: string, size: number, type: string, prefix = '') => {
      const h = Buffer.alloc(512);
      h.write(name, 0);
      h.write(size.toString(8).padStart(11, '0'), 124);
      h.write(type, 156);
      h.write('ustar\0', 257);
      h.write(prefix, 345);
      return h;
    };
    const entry = (name: string, data: string, type = '0', prefix = '') => {
      const body = Buffer.from(data);
      const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
      body.copy(padded);
      return [header(name, body.length, type, prefix), padded];
    };
    const longName = `package/lib/${'x'.repeat(120)}/index.js`;
    const record = ` path=${longName}\n`;
    const pax = `${record.length + 3}${record}`; // the length counts its own 3 digits
    const tar = Buffer.concat([
      ...entry('package/package.json', '{"name":"p"}'),
      ...entry('index.js', 'short', '0', 'package/lib/a'),
      ...entry('PaxHeader', pax, 'x'),
      ...entry('ignored-by-pax', 'long'),
      ...entry('package/lib/b/index.js', 'b'.repeat(1500)),
      Buffer.alloc(1024),
    ]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tar-test-'));
    try {
      const file = path.join(dir, 'p.tgz');
      writeFileSync(file, gzipSync(tar));
      const files = await readTarGz(file, (n) => n !== 'package/lib/b/index.js');
      expect([...files.keys()].sort()).toEqual(
        ['package/lib/a/index.js', longName, 'package/package.json'].sort(),
      );
      expect(files.get(longName)!.toString()).toBe('long');
      expect(files.get('package/lib/a/index.js')!.toString()).toBe('short');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
