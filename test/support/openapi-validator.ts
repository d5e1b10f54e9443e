/**
 * Checks values against the schemas of an OpenAPI document with ajv (JSON Schema draft 2020-12, strict mode): request
 * bodies, response bodies and headers of an operation and status. The document is added to ajv whole, so every
 * `#/components/...` reference inside a schema resolves against it.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type {
  Header,
  HttpMethod,
  OpenApiDocument,
  Operation,
  Ref,
  ResponseObject,
} from '../../shared/runtime/api/openapi';

const DOC_ID = 'urn:saga-api:openapi';
const JSON_MEDIA = 'application/json';
/** The document's own keys: opaque to ajv, which only compiles the schemas they hold. */
const DOCUMENT_KEYS = ['openapi', 'info', 'tags', 'paths', 'components', 'servers', 'jsonSchemaDialect'];

export const HTTP_METHODS: readonly HttpMethod[] = ['get', 'post'];

/** A JSON pointer segment. */
export const pointerSegment = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

const isRef = (x: object): x is Ref => '$ref' in x;

function newAjv(doc: OpenApiDocument, coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, coerceTypes });
  addFormats(ajv);
  ajv.addVocabulary(DOCUMENT_KEYS);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  return ajv;
}

const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map(
    (e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'} ${JSON.stringify(e.params)}`,
  );

/** The value at a `#/a/b` pointer in `root` (undefined when there is none). */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    const entries: [string, unknown][] = Object.entries(node);
    node = entries.find(([k]) => k === part)?.[1];
    if (node === undefined) return undefined;
  }
  return node;
}

/** Every `$ref` in `value`, with the JSON pointer of the object holding it. */
export function refsIn(value: unknown, at = '#'): { at: string; ref: string }[] {
  if (typeof value !== 'object' || value === null) return [];
  const entries: [string, unknown][] = Object.entries(value);
  return entries.flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [{ at, ref: v }] : refsIn(v, `${at}/${pointerSegment(k)}`),
  );
}

export class OpenApiValidator {
  private readonly ajv: Ajv2020;
  /** Header values are strings on the wire: this one coerces them to the schema's type. */
  private readonly headerAjv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDocument) {
    this.ajv = newAjv(doc, false);
    this.headerAjv = newAjv(doc, true);
  }

  /** Compiles the schema at `pointer` (`/components/schemas/X`); throws when it is not a valid strict schema. */
  schemaAt(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      this.compiled.set(pointer, validate);
    }
    return validate;
  }

  operation(path: string, method: HttpMethod): Operation {
    const op = this.doc.paths[path]?.[method];
    if (!op) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
    return op;
  }

  /** The pointer of the operation's request body schema. */
  requestSchemaPointer(path: string, method: HttpMethod): string {
    if (!this.operation(path, method).requestBody?.content[JSON_MEDIA])
      throw new Error(`${method.toUpperCase()} ${path} has no JSON request body`);
    return `/paths/${pointerSegment(path)}/${method}/requestBody/content/${pointerSegment(JSON_MEDIA)}/schema`;
  }

  validateRequest(path: string, method: HttpMethod, body: unknown): string[] {
    const validate = this.schemaAt(this.requestSchemaPointer(path, method));
    return validate(body) ? [] : describe(validate.errors);
  }

  /** The documented response of an operation for a status (a $ref followed), with its pointer; null if none. */
  response(
    path: string,
    method: HttpMethod,
    status: number,
  ): { response: ResponseObject; pointer: string } | null {
    const r = this.operation(path, method).responses[String(status)];
    if (!r) return null;
    if (!isRef(r))
      return { response: r, pointer: `/paths/${pointerSegment(path)}/${method}/responses/${status}` };
    const name = r.$ref.replace('#/components/responses/', '');
    const response = this.doc.components.responses[name];
    if (!response) throw new Error(`unresolved ${r.$ref}`);
    return { response, pointer: r.$ref.slice(1) };
  }

  /** Problems of a real response (status, body, headers) against the operation; empty when it conforms. */
  validateResponse(
    path: string,
    method: HttpMethod,
    res: { status: number; body: unknown; headers: Headers },
  ): string[] {
    const documented = this.response(path, method, res.status);
    if (!documented) return [`${res.status} is not documented for ${method.toUpperCase()} ${path}`];
    const { response, pointer } = documented;
    const problems: string[] = [];
    if (response.content?.[JSON_MEDIA]) {
      if (!(res.headers.get('content-type') ?? '').startsWith(JSON_MEDIA))
        problems.push(`content-type ${res.headers.get('content-type')} is not ${JSON_MEDIA}`);
      const validate = this.schemaAt(`${pointer}/content/${pointerSegment(JSON_MEDIA)}/schema`);
      if (!validate(res.body)) problems.push(...describe(validate.errors).map((e) => `body: ${e}`));
    }
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      problems.push(
        ...this.validateHeader(name, header, `${pointer}/headers/${pointerSegment(name)}`, res.headers),
      );
    }
    return problems;
  }

  private validateHeader(name: string, header: Header | Ref, pointer: string, headers: Headers): string[] {
    let h: Header | undefined;
    let at = pointer;
    if (isRef(header)) {
      h = this.doc.components.headers[header.$ref.replace('#/components/headers/', '')];
      at = header.$ref.slice(1);
    } else h = header;
    if (!h) return [`unresolved header ${name}`];
    const value = headers.get(name);
    if (value === null) return h.required ? [`header ${name} is missing`] : [];
    const key = `header:${at}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.headerAjv.compile({
        type: 'object',
        properties: { value: { $ref: `${DOC_ID}#${at}/schema` } },
        required: ['value'],
      });
      this.compiled.set(key, validate);
    }
    return validate({ value }) ? [] : describe(validate.errors).map((e) => `header ${name}: ${e}`);
  }
}
