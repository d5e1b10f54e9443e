/**
 * Checks a terraform configuration, as @cdktf/hcl2json parses it, against the provider schema extracted by
 * extract.ts (terraform/schema/google-provider.schema.json) — what `terraform validate` would say about names and
 * shapes, without the provider binary:
 *
 * - every `resource` / `data` block: its type exists; no unknown argument or block (with a "did you mean");
 *   no computed-only attribute set; required arguments and blocks present; a block written as a block and an
 *   argument as `name = value`; a MaxItems 1 block at most once; a literal of the argument's type (number, bool,
 *   list, map); a literal (or both literal branches of `cond ? "a" : "b"`) among the enum values the provider
 *   documents; `dynamic "x" { for_each, content { } }` checked like the block it generates; `lifecycle` keys,
 *   pre/postconditions and `ignore_changes` names;
 * - every reference anywhere (resources, data, locals, outputs) to `google_x.name...` / `data.google_x.name...`:
 *   the resource is declared, indexed when it has for_each / count and not otherwise, and the attribute path
 *   exists on that type (a block list indexed before `.attr`, a set never indexed, nothing after a string). The
 *   iteration variable of `for v in google_x.name` (a for_each resource) is checked the same way.
 *
 * hcl2json cannot tell `x { a = 1 }` from `x = [{ a = 1 }]` (both are a list of objects), so an argument of
 * object-list type written as a literal list reads as blocks; no argument this configuration sets has such a type.
 */
import type { AttributeSchema, BlockSchema, NestedBlockSchema, ProviderSchema } from './schema';
import { memberNames, SCHEMA_PATH } from './schema';

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isBlockList = (v: Json): v is Obj[] => Array.isArray(v) && v.length > 0 && v.every(isObj);
const isEmptyList = (v: Json): v is [] => Array.isArray(v) && v.length === 0;
const isExpression = (v: Json): v is string => typeof v === 'string' && v.includes('${');

const META: Record<'resource' | 'data', string[]> = {
  resource: ['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection'],
  data: ['count', 'for_each', 'depends_on', 'provider', 'lifecycle'],
};
const LIFECYCLE: Record<'resource' | 'data', string[]> = {
  resource: [
    'create_before_destroy',
    'prevent_destroy',
    'ignore_changes',
    'replace_triggered_by',
    'precondition',
    'postcondition',
  ],
  data: ['precondition', 'postcondition'],
};

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** ` (did you mean "x"?)` for the closest candidate, if it is close. */
export function suggestion(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3))
    ? ` (did you mean "${best}"?)`
    : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions: hcl2json keeps them as strings, `${...}` for an expression, literal text around it for a template.

/**
 * The code of every `${...}` in a string. String literals inside it are blanked to `""` (interpolations inside
 * them are returned as codes of their own), except plain words such as map keys; `$${` is an escape.
 */
export function expressionCodes(template: string): string[] {
  const out: string[] = [];
  const scan = (start: number): number => {
    let depth = 0;
    let code = '';
    let i = start;
    while (i < template.length) {
      const c = template[i]!;
      if (c === '"') {
        let j = i + 1;
        while (j < template.length && template[j] !== '"') {
          if (template[j] === '\\') j += 2;
          else if (template.startsWith('${', j) && template[j - 1] !== '$') j = scan(j + 2);
          else j++;
        }
        // Keep a plain literal (a map key, an index) for the messages; blank anything that could look like code.
        const literal = template.slice(i, j + 1);
        code += /^"[\w./ -]*"$/.test(literal) && !literal.includes('google_') ? literal : '""';
        i = j + 1;
        continue;
      }
      if (c === '{') depth++;
      if (c === '}' && depth-- === 0) {
        out.push(code);
        return i + 1;
      }
      code += c;
      i++;
    }
    out.push(code);
    return i;
  };
  for (let i = 0; i < template.length;) {
    const at = template.indexOf('${', i);
    if (at < 0) break;
    i = at > 0 && template[at - 1] === '$' ? at + 2 : scan(at + 2);
  }
  return out;
}

type Step = { attr: string } | { index: string } | { splat: true };

/** The traversal after position `pos` of an expression: `.name`, `.0`, `[...]` (balanced), `.*`, `[*]`. */
function traversal(code: string, pos: number): Step[] {
  const steps: Step[] = [];
  for (;;) {
    const attr = /^\.([A-Za-z_][\w-]*|\d+|\*)/.exec(code.slice(pos));
    if (attr) {
      steps.push(
        attr[1] === '*' ? { splat: true } : /^\d/.test(attr[1]!) ? { index: attr[1]! } : { attr: attr[1]! },
      );
      pos += attr[0].length;
      continue;
    }
    if (code[pos] !== '[') return steps;
    let depth = 0;
    let end = pos;
    for (; end < code.length; end++) {
      if (code[end] === '[') depth++;
      else if (code[end] === ']' && --depth === 0) break;
    }
    const inside = code.slice(pos + 1, end).trim();
    steps.push(inside === '*' ? { splat: true } : { index: inside });
    pos = end + 1;
  }
}

const showSteps = (steps: Step[]) =>
  steps.map((s) => ('attr' in s ? `.${s.attr}` : 'index' in s ? `[${s.index}]` : '[*]')).join('');

// ---------------------------------------------------------------------------------------------------------------

interface Declared {
  kind: 'resource' | 'data';
  type: string;
  body: Obj;
}

class Checker {
  readonly problems: string[] = [];
  private readonly declared = new Map<string, Declared>();

  constructor(private readonly schema: ProviderSchema) {}

  private problem(where: string, message: string): void {
    this.problems.push(`${where}: ${message}`);
  }

  run(config: Obj): void {
    for (const kind of ['resource', 'data'] as const) {
      const section = config[kind];
      if (section === undefined) continue;
      for (const [type, byName] of Object.entries(isObj(section) ? section : {})) {
        for (const [name, bodies] of Object.entries(isObj(byName) ? byName : {})) {
          const address = `${kind === 'data' ? 'data.' : ''}${type}.${name}`;
          const list = Array.isArray(bodies) ? bodies.filter(isObj) : [];
          if (list.length !== 1) this.problem(address, `declared ${list.length} times`);
          if (list[0]) this.declared.set(address, { kind, type, body: list[0] });
        }
      }
    }
    for (const [address, d] of this.declared) {
      const types = d.kind === 'resource' ? this.schema.resources : this.schema.dataSources;
      const s = types[d.type];
      if (!s) {
        this.problem(
          address,
          `${d.kind === 'data' ? 'data source' : 'resource'} type ${d.type} is not in ${SCHEMA_PATH}${suggestion(d.type, Object.keys(types))}: a typo, or a type new to terraform/*.tf (run npm run terraform:schema)`,
        );
        continue;
      }
      this.body(address, '', d.body, s, d.kind);
    }
    this.references(config, '');
  }

  /** A block body: the top of a resource / data block (`meta` set) or a nested block. */
  private body(address: string, path: string, body: Obj, s: BlockSchema, meta?: 'resource' | 'data'): void {
    const at = (name: string) => `${address}: ${path}${name}`;
    const blockCounts = new Map<string, number>();
    for (const [key, value] of Object.entries(body)) {
      if (meta && META[meta].includes(key)) {
        if (key === 'lifecycle') this.lifecycle(address, value, s, meta);
        continue;
      }
      if (key === 'dynamic') {
        this.dynamic(address, path, value, s, blockCounts);
        continue;
      }
      const attribute = s.attributes[key];
      const block = s.blocks[key];
      if (attribute) this.attribute(at(key), key, value, attribute);
      else if (block) {
        if (!isBlockList(value) && !isEmptyList(value)) {
          this.problem(at(key), `is a block: write \`${key} { ... }\`, not \`${key} = ...\``);
          continue;
        }
        blockCounts.set(key, (blockCounts.get(key) ?? 0) + value.length);
        value.forEach((item, i) =>
          this.body(address, `${path}${key}${value.length > 1 ? `[${i}]` : ''}.`, item, block),
        );
      } else {
        const names = [...memberNames(s), ...(meta ? META[meta] : [])];
        this.problem(at(key), `unknown argument or block${suggestion(key, names)}`);
      }
    }
    for (const [name, a] of Object.entries(s.attributes)) {
      if (a.required && (body[name] === undefined || body[name] === null))
        this.problem(
          `${address}${path ? `: ${path.slice(0, -1)}` : ''}`,
          `missing required argument "${name}"`,
        );
    }
    for (const [name, b] of Object.entries(s.blocks)) {
      const n = blockCounts.get(name) ?? 0;
      if (b.required && n === 0)
        this.problem(`${address}${path ? `: ${path.slice(0, -1)}` : ''}`, `missing required block "${name}"`);
      const max = b.nesting === 'single' ? 1 : b.maxItems;
      if (max !== undefined && n > max)
        this.problem(at(name), `at most ${max} ${name} block${max === 1 ? '' : 's'} allowed, found ${n}`);
    }
  }

  private attribute(at: string, key: string, value: Json, a: AttributeSchema): void {
    if (!a.required && !a.optional) {
      this.problem(at, 'is read-only (computed by the provider) and cannot be set');
      return;
    }
    const objects = a.type.endsWith('(object)');
    if (isBlockList(value) && !objects) {
      this.problem(at, `is an argument (${a.type}), not a block: write \`${key} = ...\``);
      return;
    }
    if (!isExpression(value) && value !== null) {
      const scalar = typeof value !== 'object';
      const ok =
        a.type === 'string'
          ? scalar
          : a.type === 'number'
            ? typeof value === 'number' ||
              (typeof value === 'string' && value.trim() !== '' && !isNaN(+value))
            : a.type === 'bool'
              ? typeof value === 'boolean' || value === 'true' || value === 'false'
              : a.type.startsWith('list(') || a.type.startsWith('set(')
                ? Array.isArray(value)
                : a.type.startsWith('map(')
                  ? isObj(value)
                  : true;
      if (!ok) this.problem(at, `expects ${a.type}, got ${JSON.stringify(value)}`);
    }
    if (a.enum && typeof value === 'string') {
      const ternary = /^\$\{[^?]*\?\s*"([^"$\\]*)"\s*:\s*"([^"$\\]*)"\s*\}$/.exec(value);
      const literals = ternary ? [ternary[1]!, ternary[2]!] : isExpression(value) ? [] : [value];
      for (const v of literals) {
        if (!a.enum.includes(v))
          this.problem(
            at,
            `"${v}" is not one of ${a.enum.map((e) => `"${e}"`).join(', ')}${suggestion(v, a.enum)}`,
          );
      }
    }
  }

  private dynamic(
    address: string,
    path: string,
    value: Json,
    s: BlockSchema,
    counts: Map<string, number>,
  ): void {
    if (!isObj(value)) {
      this.problem(
        `${address}: ${path}dynamic`,
        'expected `dynamic "<block>" { for_each = ..., content { } }`',
      );
      return;
    }
    for (const [name, list] of Object.entries(value)) {
      const at = `${address}: ${path}dynamic "${name}"`;
      const block = s.blocks[name];
      if (!block) {
        this.problem(
          at,
          s.attributes[name]
            ? `${name} is an argument, not a block: a dynamic block can only generate blocks`
            : `unknown block${suggestion(name, Object.keys(s.blocks))}`,
        );
        continue;
      }
      const dyns = isBlockList(list) ? list : [];
      if (dyns.length === 0) this.problem(at, 'expected `dynamic "<block>" { for_each = ..., content { } }`');
      for (const d of dyns) {
        for (const key of Object.keys(d)) {
          if (!['for_each', 'iterator', 'labels', 'content'].includes(key))
            this.problem(
              at,
              `unknown argument or block "${key}" (a dynamic block has for_each, iterator, labels, content)`,
            );
        }
        if (d.for_each === undefined) this.problem(at, 'missing for_each');
        const content = isBlockList(d.content) ? d.content : [];
        if (content.length !== 1) this.problem(at, 'needs exactly one content block');
        if (content[0]) this.body(address, `${path}dynamic "${name}".content.`, content[0], block);
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
  }

  private lifecycle(address: string, value: Json, s: BlockSchema, kind: 'resource' | 'data'): void {
    if (!isBlockList(value)) {
      this.problem(`${address}: lifecycle`, 'is a block: write `lifecycle { ... }`');
      return;
    }
    for (const l of value) {
      for (const [key, v] of Object.entries(l)) {
        const at = `${address}: lifecycle.${key}`;
        if (!LIFECYCLE[kind].includes(key)) {
          this.problem(at, `unknown lifecycle argument or block${suggestion(key, LIFECYCLE[kind])}`);
        } else if (key === 'precondition' || key === 'postcondition') {
          for (const c of isBlockList(v) ? v : []) {
            for (const required of ['condition', 'error_message'])
              if (!(required in c)) this.problem(at, `missing required argument "${required}"`);
          }
        } else if (key === 'ignore_changes' && Array.isArray(v)) {
          for (const item of v) {
            const name = typeof item === 'string' ? /^\$\{([A-Za-z_]\w*)/.exec(item)?.[1] : undefined;
            if (name && !(name in s.attributes) && !(name in s.blocks))
              this.problem(
                at,
                `${name} is not an argument or block of this type${suggestion(name, memberNames(s))}`,
              );
          }
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // References.

  private references(v: Json, where: string): void {
    if (typeof v === 'string') {
      for (const code of expressionCodes(v)) this.referencesIn(code, where);
    } else if (Array.isArray(v)) {
      v.forEach((x) => this.references(x, where));
    } else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) this.references(x, where ? `${where}.${k}` : k);
    }
  }

  private referencesIn(code: string, where: string): void {
    const location = where.replace(
      /^(resource|data)\.(\w+)\.(\w+)\.?/,
      (_, kind: string, type: string, name: string) => `${kind === 'data' ? 'data.' : ''}${type}.${name}: `,
    );
    const re = /(?<![\w.])(data\.)?(google_\w+)\.([A-Za-z_][\w-]*)/g;
    for (const m of code.matchAll(re)) {
      const address = `${m[1] ?? ''}${m[2]}.${m[3]}`;
      const steps = traversal(code, m.index + m[0].length);
      const d = this.declared.get(address);
      const at = `${location}${location.endsWith(' ') ? '' : ': '}reference ${address}${showSteps(steps)}`;
      if (!d) {
        this.problem(at, `${address} is not declared${suggestion(address, this.declared.keys())}`);
        continue;
      }
      const multi = d.body.for_each !== undefined || d.body.count !== undefined;
      const first = steps[0];
      if (multi && first && 'attr' in first) {
        this.problem(
          at,
          `${address} has ${d.body.for_each !== undefined ? 'for_each' : 'count'}: index it, ${address}[<key>].${first.attr}`,
        );
        continue;
      }
      if (!multi && first && !('attr' in first)) {
        this.problem(at, `${address} has no for_each or count: it cannot be indexed`);
        continue;
      }
      const s = (d.kind === 'resource' ? this.schema.resources : this.schema.dataSources)[d.type];
      if (s) this.path(at, d.type, multi ? steps.slice(1) : steps, s);
    }
    // `for k, v in google_x.name :` — v is an instance of a for_each / count resource.
    const forRe = /\bfor\s+(\w+)(?:\s*,\s*(\w+))?\s+in\s+((?:data\.)?google_\w+\.[A-Za-z_][\w-]*)\s*:/g;
    for (const m of code.matchAll(forRe)) {
      const d = this.declared.get(m[3]!);
      const s = d && (d.kind === 'resource' ? this.schema.resources : this.schema.dataSources)[d.type];
      if (!d || !s || (d.body.for_each === undefined && d.body.count === undefined)) continue;
      const variable = m[2] ?? m[1]!;
      for (const use of code.matchAll(new RegExp(`(?<![\\w.])${variable}(?=[.[])`, 'g'))) {
        const steps = traversal(code, use.index + variable.length);
        this.path(
          `${location}${location.endsWith(' ') ? '' : ': '}${variable}${showSteps(steps)} (an instance of ${m[3]})`,
          d.type,
          steps,
          s,
        );
      }
    }
  }

  /** Walks an attribute path of an instance of `type`. */
  private path(at: string, type: string, steps: Step[], top: BlockSchema): void {
    let node: { block: BlockSchema; name: string } | { attribute: AttributeSchema; name: string } = {
      block: top,
      name: type,
    };
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if ('block' in node) {
        if (!('attr' in step)) {
          this.problem(at, `${node.name} is an object: \`${showSteps([step])}\` cannot index it`);
          return;
        }
        const a: AttributeSchema | undefined = node.block.attributes[step.attr];
        const b: NestedBlockSchema | undefined = node.block.blocks[step.attr];
        if (a) node = { attribute: a, name: step.attr };
        else if (b) {
          const next = steps[i + 1];
          if (b.nesting !== 'single') {
            if (b.nesting === 'set' && next && 'index' in next) {
              this.problem(
                at,
                `${step.attr} is a set of blocks: it cannot be indexed (use a for expression or one())`,
              );
              return;
            }
            if (!next || 'attr' in next) {
              if (next)
                this.problem(at, `${step.attr} is a list of blocks: index it, ${step.attr}[0].${next.attr}`);
              return;
            }
            i++;
          }
          node = { block: b, name: step.attr };
        } else {
          this.problem(
            at,
            `${node.name} has no attribute "${step.attr}"${suggestion(step.attr, memberNames(node.block))}`,
          );
          return;
        }
        continue;
      }
      const a: AttributeSchema = node.attribute;
      const name: string = node.name;
      if (a.type === 'dynamic' || a.type.startsWith('map(')) return;
      if (a.type.endsWith('(object)') || a.type === 'object') {
        if (a.type !== 'object') {
          if (a.type.startsWith('set(') && 'index' in step) {
            this.problem(at, `${name} is a set: it cannot be indexed (use a for expression or one())`);
            return;
          }
          if ('attr' in step) {
            this.problem(at, `${name} is a ${a.type}: index it, ${name}[0].${step.attr}`);
            return;
          }
        } else i--; // an object: this step is already its attribute
        node = { block: a.object ?? { attributes: {}, blocks: {} }, name };
        continue;
      }
      if ('splat' in step || (a.type.startsWith('list(') && 'index' in step)) return;
      this.problem(at, `${name} is a ${a.type}: \`${showSteps([step])}\` cannot follow it`);
      return;
    }
  }
}

/** Problems of a configuration (hcl2json's output, one file or a directory merged) against the schema, sorted. */
export function checkConfiguration(config: Record<string, unknown>, schema: ProviderSchema): string[] {
  const c = new Checker(schema);
  c.run(config);
  return [...new Set(c.problems)].sort();
}
