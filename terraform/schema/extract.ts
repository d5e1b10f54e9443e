/**
 * Writes terraform/schema/google-provider.schema.json: the google provider's schema for exactly the resource and
 * data-source types terraform/*.tf uses, which test/unit/terraform-schema.test.ts checks every block against.
 * Run it when terraform/*.tf starts using another type or when the provider version changes:
 *
 *   npm run terraform:schema                                   # @cdktf/provider-google@16 (latest 16.x)
 *   npm run terraform:schema -- --package @cdktf/provider-google@16.12.1
 *   npm run terraform:schema -- --from <unpacked package dir>  # a package already on disk (has lib/, package.json)
 *   npm run terraform:schema -- --check                        # exit 1 if the committed file is not up to date
 *
 * Where the schema comes from: `terraform providers schema -json` needs the provider binary, which cannot be
 * downloaded everywhere. @cdktf/provider-google is generated from that same JSON schema and published on npm, one
 * TypeScript module per resource (lib/<name>/index.js, whose inline source map carries the generated .ts). Each
 * attribute there is preceded by `// <name> - computed: <b>, optional: <b>, required: <b>`, the HCL synthesis
 * (`synthesizeHclAttributes`, `<struct>ToHclTerraform`) says which names are blocks and their list / set nesting,
 * a block with MaxItems 1 is held by an `...OutputReference` (several: a `...List`), and the provider's
 * descriptions, kept as doc comments, list enum values as `Possible values: [...]`. The parser below throws on
 * anything it does not recognise, so a change in the generator fails loudly instead of producing a thin schema.
 *
 * The package is NOT a dependency (32 MB packed, ~300 MB unpacked): `npm pack` fetches the tarball into a
 * temporary directory and only the few modules needed are read out of it (a small tar reader over node:zlib; no
 * `tar` binary, nothing unpacked to disk).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { convertFiles } from '@cdktf/hcl2json';
import type { AttributeSchema, BlockSchema, NestedBlockSchema, ProviderSchema } from './schema';
import { SCHEMA_PATH } from './schema';

export const DEFAULT_PACKAGE = '@cdktf/provider-google@16';

// ---------------------------------------------------------------------------------------------------------------
// Parsing one generated module (the TypeScript source cdktf generated for one resource or data source).

interface Sections {
  classes: Map<string, string>;
  interfaces: Map<string, string>;
  functions: Map<string, string>;
}

/** Splits a generated module into its top-level declarations (every one starts a line with `export`). */
function sections(ts: string): Sections {
  const marks = [...ts.matchAll(/^export (class|interface|function) (\w+)/gm)];
  const out: Sections = { classes: new Map(), interfaces: new Map(), functions: new Map() };
  marks.forEach((m, i) => {
    const body = ts.slice(m.index, marks[i + 1]?.index ?? ts.length);
    const kind = m[1] === 'class' ? out.classes : m[1] === 'interface' ? out.interfaces : out.functions;
    kind.set(m[2]!, body);
  });
  return out;
}

interface Member {
  name: string;
  computed: boolean;
  optional: boolean;
  required: boolean;
  /** The lines after the comment: the private field or the getter. */
  decl: string;
}

/** The `// name - computed: .., optional: .., required: ..` members of a generated class. */
function members(classBody: string): Member[] {
  const re =
    /\/\/ (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n((?:.*\n){1,3})/g;
  return [...classBody.matchAll(re)].map((m) => ({
    name: m[1]!,
    computed: m[2] === 'true',
    optional: m[3] === 'true',
    required: m[4] === 'true',
    decl: m[5]!,
  }));
}

interface HclInfo {
  isBlock: boolean;
  type: string;
  storageClassType: string;
}

/** The entries of a `const attrs = { name: { value, isBlock, type, storageClassType }, ... }` HCL synthesis. */
function hclInfo(body: string): Map<string, HclInfo> {
  const re =
    /^\s*(\w+): \{\n\s*value: .*\n\s*isBlock: (true|false),\n\s*type: "(\w+)",\n\s*storageClassType: "(\w+)",\n\s*\},?$/gm;
  return new Map(
    [...body.matchAll(re)].map((m) => [
      m[1]!,
      { isBlock: m[2] === 'true', type: m[3]!, storageClassType: m[4]! },
    ]),
  );
}

/** Enum values documented on the properties of a config interface, by attribute name. */
function documentedEnums(interfaceBody: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of interfaceBody.matchAll(/\/\*\*([\s\S]*?)\*\/\s*readonly \w+\??:/g)) {
    const doc = m[1]!.replace(/\n\s*\*[ \t]?/g, ' ');
    const name = /\{@link \S+#(\w+) \w+#\1\}/.exec(doc)?.[1];
    const values = /Possible values: \[([^\]]*)\]/.exec(doc)?.[1];
    if (name && values !== undefined) out.set(name, JSON.parse(`[${values}]`) as string[]);
  }
  return out;
}

const SIMPLE_TYPES: Record<string, string> = {
  'simple/string': 'string',
  'simple/number': 'number',
  'simple/boolean': 'bool',
  'map/stringMap': 'map(string)',
  'map/numberMap': 'map(number)',
  'map/booleanMap': 'map(bool)',
  'list/stringList': 'list(string)',
  'set/stringList': 'set(string)',
  'list/numberList': 'list(number)',
  'set/numberList': 'set(number)',
  'list/booleanList': 'list(bool)',
};

const lcFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

class ModuleParser {
  private readonly s: Sections;

  constructor(
    ts: string,
    private readonly where: string,
  ) {
    this.s = sections(ts);
  }

  /** The schema of the resource or data source whose class declares `tfResourceType = "<type>"`. */
  top(type: string, kind: 'resource' | 'data'): BlockSchema {
    const base = kind === 'resource' ? 'TerraformResource' : 'TerraformDataSource';
    const entry = [...this.s.classes].find(([, body]) =>
      body.includes(`public static readonly tfResourceType = "${type}";`),
    );
    if (!entry) throw new Error(`${this.where}: no class with tfResourceType "${type}"`);
    const [name, body] = entry;
    if (!body.includes(`extends cdktf.${base} {`)) throw new Error(`${this.where}: ${name} is not a ${base}`);
    return this.block(name, body, body, this.s.interfaces.get(`${name}Config`));
  }

  /** The schema of a nested struct (a block's body or an object attribute's element). */
  private struct(struct: string): BlockSchema {
    const cls = this.s.classes.get(`${struct}OutputReference`);
    if (!cls) throw new Error(`${this.where}: no class ${struct}OutputReference`);
    return this.block(
      `${struct}OutputReference`,
      cls,
      this.s.functions.get(`${lcFirst(struct)}ToHclTerraform`) ?? '',
      this.s.interfaces.get(struct),
    );
  }

  private block(cls: string, classBody: string, hclBody: string, iface: string | undefined): BlockSchema {
    const where = `${this.where} ${cls}`;
    const hcl = hclInfo(hclBody);
    const enums = documentedEnums(iface ?? '');
    const out: BlockSchema = { attributes: {}, blocks: {} };
    const seen = new Set<string>();
    for (const m of members(classBody)) {
      seen.add(m.name);
      const h = hcl.get(m.name);
      if (h?.isBlock) {
        out.blocks[m.name] = this.nestedBlock(m, h, where);
        continue;
      }
      if (!h && (m.required || m.optional || !m.computed))
        throw new Error(`${where}.${m.name}: an argument missing from the HCL synthesis`);
      const a: AttributeSchema = { type: h ? this.inputType(m, h, where) : this.computedType(m, where) };
      if (m.required) a.required = true;
      if (m.optional) a.optional = true;
      if (m.computed) a.computed = true;
      if (!m.required && !m.optional && !m.computed)
        throw new Error(`${where}.${m.name}: neither required, optional nor computed`);
      const values = enums.get(m.name);
      if (values) a.enum = values;
      const element = /= new (\w+)(?:List|OutputReference)\(this, "\w+"/.exec(m.decl)?.[1];
      if (a.type.endsWith('(object)') || a.type === 'object') a.object = this.struct(element!);
      out.attributes[m.name] = a;
    }
    for (const name of [...hcl.keys(), ...enums.keys()]) {
      if (!seen.has(name)) throw new Error(`${where}: ${name} is synthesized or documented but not a member`);
    }
    return out;
  }

  private nestedBlock(m: Member, h: HclInfo, where: string): NestedBlockSchema {
    const single = new RegExp(`= new (\\w+)OutputReference\\(this, "${m.name}"\\);`).exec(m.decl);
    const many = new RegExp(`= new (\\w+)List\\(this, "${m.name}", (true|false)\\);`).exec(m.decl);
    const struct = h.type === 'struct' ? h.storageClassType : h.storageClassType.replace(/List$/, '');
    if ((single?.[1] ?? many?.[1]) !== struct || !['struct', 'list', 'set'].includes(h.type))
      throw new Error(`${where}.${m.name}: unrecognised block (${h.type} ${h.storageClassType}): ${m.decl}`);
    if (many && (many[2] === 'true') !== (h.type === 'set'))
      throw new Error(`${where}.${m.name}: list / set nesting disagree`);
    const nested: NestedBlockSchema = {
      nesting: h.type === 'struct' ? 'single' : h.type === 'set' ? 'set' : 'list',
      ...(single && h.type !== 'struct' ? { maxItems: 1 } : {}),
      ...(m.required ? { required: true as const } : {}),
      ...this.struct(struct),
    };
    return nested;
  }

  private inputType(m: Member, h: HclInfo, where: string): string {
    const simple = SIMPLE_TYPES[`${h.type}/${h.storageClassType}`];
    if (simple) return simple;
    if ((h.type === 'list' || h.type === 'set') && /^[A-Z]\w*List$/.test(h.storageClassType))
      return `${h.type}(object)`;
    throw new Error(`${where}.${m.name}: unrecognised argument type ${h.type} ${h.storageClassType}`);
  }

  private computedType(m: Member, where: string): string {
    const d = m.decl;
    const getter = /this\.(get\w+Attribute|interpolationForAttribute)\('(\w+)'\)/.exec(d);
    if (getter && getter[2] !== m.name) throw new Error(`${where}.${m.name}: getter reads ${getter[2]}`);
    if (/cdktf\.Fn\.tolist\(this\.getListAttribute\(/.test(d)) return 'set(string)';
    const byGetter: Record<string, string> = {
      getStringAttribute: 'string',
      getNumberAttribute: 'number',
      getBooleanAttribute: 'bool',
      getListAttribute: 'list(string)',
      getNumberListAttribute: 'list(number)',
      getStringMapAttribute: 'map(string)',
      getNumberMapAttribute: 'map(number)',
      getBooleanMapAttribute: 'map(bool)',
      interpolationForAttribute: 'dynamic',
    };
    if (getter && byGetter[getter[1]!]) return byGetter[getter[1]!]!;
    const map = /= new cdktf\.(String|Number|Boolean)Map\(this, "(\w+)"\)/.exec(d);
    if (map && map[2] === m.name) return `map(${map[1] === 'Boolean' ? 'bool' : map[1]!.toLowerCase()})`;
    const list = /= new \w+List\(this, "(\w+)", (true|false)\)/.exec(d);
    if (list && list[1] === m.name) return list[2] === 'true' ? 'set(object)' : 'list(object)';
    const single = /= new \w+OutputReference\(this, "(\w+)"\)/.exec(d);
    if (single && single[1] === m.name) return 'object';
    throw new Error(`${where}.${m.name}: unrecognised computed attribute: ${d}`);
  }
}

/** The TypeScript source of a generated module, from the inline source map of its compiled index.js. */
export function generatedSource(js: string, where: string): string {
  const m = /^\/\/# sourceMappingURL=data:application\/json;base64,(\S+)\s*$/m.exec(js);
  if (!m) throw new Error(`${where}: no inline source map`);
  const map = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as { sourcesContent?: string[] };
  const ts = map.sourcesContent?.[0];
  if (typeof ts !== 'string') throw new Error(`${where}: the source map has no sourcesContent`);
  return ts;
}

/** The schema of one resource (`kind` resource) or data source (`data`) from its generated module. */
export function extractTypeSchema(
  generatedTs: string,
  type: string,
  kind: 'resource' | 'data',
  where = type,
): BlockSchema {
  return new ModuleParser(generatedTs, where).top(type, kind);
}

/** lib/<module>/index.js of a type: google_pubsub_subscription → pubsub-subscription, data → data-google-... */
export function modulePath(type: string, kind: 'resource' | 'data'): string {
  if (!type.startsWith('google_')) throw new Error(`${type}: not a google provider type`);
  const base = type.replace(/_/g, '-');
  return `lib/${kind === 'data' ? `data-${base}` : base.slice('google-'.length)}/index.js`;
}

// ---------------------------------------------------------------------------------------------------------------
// The configuration's types, the package, the output.

export interface UsedTypes {
  resources: string[];
  dataSources: string[];
}

/** The resource and data-source types a configuration (hcl2json's output) declares. */
export function typesOf(config: { resource?: object; data?: object }): UsedTypes {
  return {
    resources: Object.keys(config.resource ?? {}).sort(),
    dataSources: Object.keys(config.data ?? {}).sort(),
  };
}

/** The resource and data-source types terraform/*.tf declares. */
export async function usedTypes(terraformDir: string): Promise<UsedTypes> {
  return typesOf((await convertFiles(terraformDir)) as object);
}

export interface PackageFiles {
  /** A file of the package by its path inside it (package.json, lib/...), or undefined. */
  get(file: string): string | undefined;
}

/** Builds the schema document of the given types out of the package's files. */
export function buildSchema(files: PackageFiles, types: UsedTypes): ProviderSchema {
  const pkgJson = files.get('package.json');
  if (!pkgJson) throw new Error('the package has no package.json');
  const pkg = JSON.parse(pkgJson) as {
    name: string;
    version: string;
    cdktf?: { provider?: { name?: string; version?: string } };
  };
  const provider = pkg.cdktf?.provider;
  if (!provider?.name || !provider.version)
    throw new Error(`${pkg.name}: package.json names no cdktf.provider`);
  const extract = (kind: 'resource' | 'data') => (type: string) => {
    const file = modulePath(type, kind);
    const js = files.get(file);
    if (js === undefined)
      throw new Error(
        `${type}: ${pkg.name}@${pkg.version} has no ${file}: no such ${kind} in ${provider.version}?`,
      );
    return [type, extractTypeSchema(generatedSource(js, file), type, kind, file)] as const;
  };
  return {
    $comment:
      'Generated by `npm run terraform:schema` (terraform/schema/extract.ts); do not edit. The google provider schema of the types terraform/*.tf uses; test/unit/terraform-schema.test.ts checks terraform/*.tf against it.',
    package: pkg.name,
    packageVersion: pkg.version,
    provider: provider.name,
    providerVersion: provider.version,
    resources: Object.fromEntries(types.resources.map(extract('resource'))),
    dataSources: Object.fromEntries(types.dataSources.map(extract('data'))),
  };
}

/** Name-sorted maps, one line per attribute (an object none of whose values is an object), 2-space indentation. */
export function renderSchema(schema: ProviderSchema): string {
  const byName = <T>(record: Record<string, T>, f: (v: T) => unknown) =>
    Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, f(record[k]!)]),
    );
  const attribute = ({ object, ...a }: AttributeSchema): unknown =>
    object ? { ...a, object: block(object) } : a;
  const block = (b: BlockSchema): unknown => {
    const { attributes, blocks, ...rest } = b as NestedBlockSchema;
    return {
      ...rest,
      attributes: byName(attributes, attribute),
      blocks: byName(blocks, block),
    };
  };
  const render = (v: unknown, indent: string): string => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return JSON.stringify(v);
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    if (entries.every(([, x]) => typeof x !== 'object' || x === null || Array.isArray(x)))
      return JSON.stringify(v);
    const inner = indent + '  ';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${render(x, inner)}`).join(',\n')}\n${indent}}`;
  };
  const {
    $comment,
    package: name,
    packageVersion,
    provider,
    providerVersion,
    resources,
    dataSources,
  } = schema;
  const doc = {
    $comment,
    package: name,
    packageVersion,
    provider,
    providerVersion,
    resources: byName(resources, block),
    dataSources: byName(dataSources, block),
  };
  return `${render(doc, '')}\n`;
}

/** Reads the wanted files of a .tgz without unpacking it (ustar, with pax / GNU long names). */
export async function readTarGz(
  file: string,
  wanted: (name: string) => boolean,
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let pending: Buffer = Buffer.alloc(0);
  let entry: { name: string; remaining: number; padding: number; chunks: Buffer[] | null } | undefined;
  let longName: string | undefined;
  let ended = false;
  for await (const chunk of createReadStream(file).pipe(createGunzip()) as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (ended) break;
      if (entry) {
        const take = Math.min(entry.remaining, pending.length);
        if (entry.chunks) entry.chunks.push(pending.subarray(0, take));
        pending = pending.subarray(take);
        entry.remaining -= take;
        if (entry.remaining > 0) break;
        if (pending.length < entry.padding) break;
        pending = pending.subarray(entry.padding);
        const done = entry;
        entry = undefined;
        if (done.chunks) {
          const data = Buffer.concat(done.chunks);
          if (done.name === '\0pax')
            longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
          else if (done.name === '\0gnu') longName = data.toString('utf8').replace(/\0+$/, '');
          else out.set(done.name, data);
        }
        continue;
      }
      if (pending.length < 512) break;
      const header = pending.subarray(0, 512);
      pending = pending.subarray(512);
      if (header.every((b) => b === 0)) {
        ended = true;
        break;
      }
      const field = (start: number, length: number) =>
        header
          .subarray(start, start + length)
          .toString('utf8')
          .replace(/\0.*$/s, '');
      const size = parseInt(field(124, 12).trim() || '0', 8);
      const typeflag = field(156, 1);
      const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
      let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      longName = undefined;
      if (typeflag === 'x') name = '\0pax';
      else if (typeflag === 'L') name = '\0gnu';
      const keep = name.startsWith('\0') || ((typeflag === '0' || typeflag === '') && wanted(name));
      entry = { name, remaining: size, padding: (512 - (size % 512)) % 512, chunks: keep ? [] : null };
    }
  }
  return out;
}

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** `npm pack <spec>` into a temporary directory; the files of the types' modules and package.json. */
async function packedFiles(spec: string, types: UsedTypes): Promise<PackageFiles> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'provider-schema-'));
  try {
    process.stderr.write(`npm pack ${spec} (about 32 MB) into ${tmp}\n`);
    const packed = JSON.parse(npm(['pack', spec, '--json', '--pack-destination', tmp], tmp)) as {
      filename: string;
    }[];
    const wanted = new Set([
      'package/package.json',
      ...types.resources.map((t) => `package/${modulePath(t, 'resource')}`),
      ...types.dataSources.map((t) => `package/${modulePath(t, 'data')}`),
    ]);
    const files = await readTarGz(path.join(tmp, path.basename(packed[0]!.filename)), (n) => wanted.has(n));
    return { get: (file) => files.get(`package/${file}`)?.toString('utf8') };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function directoryFiles(dir: string): PackageFiles {
  return {
    get: (file) =>
      existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8') : undefined,
  };
}

async function main(argv: string[]): Promise<number> {
  const root = process.cwd();
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const check = argv.includes('--check');
  const from = opt('--from');
  const spec = opt('--package') ?? DEFAULT_PACKAGE;
  const out = path.join(root, SCHEMA_PATH);

  const t0 = Date.now();
  const types = await usedTypes(path.join(root, 'terraform'));
  const files = from ? directoryFiles(path.resolve(from)) : await packedFiles(spec, types);
  const t1 = Date.now();
  const schema = buildSchema(files, types);
  const text = renderSchema(schema);
  const t2 = Date.now();
  const what =
    `${schema.package}@${schema.packageVersion} (${schema.provider} ${schema.providerVersion}): ` +
    `${types.resources.length} resource and ${types.dataSources.length} data-source types, ` +
    `${Math.round(text.length / 1024)} KB, extracted in ${t2 - t1} ms (${t1 - t0} ms to obtain)`;
  if (check) {
    const committed = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (committed === text) {
      process.stdout.write(`${SCHEMA_PATH} is up to date: ${what}\n`);
      return 0;
    }
    process.stderr.write(`${SCHEMA_PATH} is not what ${what} gives: run npm run terraform:schema\n`);
    return 1;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${SCHEMA_PATH}: ${what}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
