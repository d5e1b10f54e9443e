/**
 * The OpenAPI 3.1 document of the api (GET /openapi.json), built from the declared saga and resource apis: every
 * route, request body, response and error. Every schema is converted from its zod schema with z.toJSONSchema
 * (draft 2020-12, the dialect of OpenAPI 3.1): request bodies and parameters as zod input types, responses as
 * output types. Schemas with a name go to components/schemas and are referenced with $ref.
 */
import { z } from 'zod';
import { MAX_RETRY_AFTER_S } from '../admission';
import { errorBodySchema } from '../http/error-body';
import { ID_PATTERN, idSchema } from '../messages';
import type { ResourceApi, SagaApi } from './declarations';
import { idempotencyKeySchema, MAX_BODY_BYTES } from './http';
import { sagaViewSchema } from './views';

export type JsonSchema = z.core.JSONSchema.JSONSchema;

export interface Ref {
  $ref: string;
}

export interface Header {
  description: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface MediaType {
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, MediaType>;
}

export interface Parameter {
  name: string;
  in: 'path' | 'header';
  required: boolean;
  description: string;
  schema: JsonSchema;
}

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: (Parameter | Ref)[];
  requestBody?: { required: true; description: string; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject | Ref>;
}

export type HttpMethod = 'get' | 'post';
export type PathItem = Partial<Record<HttpMethod, Operation>>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags: { name: string; description: string }[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, Parameter>;
    headers: Record<string, Header>;
  };
}

export const OPENAPI_VERSION = '3.1.1';
export const HEALTHZ_PATH = '/healthz';
export const OPENAPI_PATH = '/openapi.json';
export const SAGA_PATH = '/sagas/{sagaId}';

/** GET /healthz's body. */
export const healthSchema = z.object({ status: z.literal('ok') });

/** The 202 body of `POST /<resource>`: `{<idName>, status}`. */
export const acceptedSchema = (idName: string) =>
  z.object({ [idName]: idSchema, status: z.literal('PENDING') });

/** GET /openapi.json's body, as far as a client needs to know it. */
const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string().regex(/^3\.1\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.looseObject({})),
  })
  .describe('an OpenAPI 3.1 document (this one)');

const JSON_MEDIA = 'application/json';
const ID_CHARS = ID_PATTERN.source.replace(/^\^/, '').replace(/\$$/, '');

const ref = (pointer: string): Ref => ({ $ref: pointer });
const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: string): Ref => ref(`#/components/responses/${name}`);

/** `car class` → `CarClass`. */
const pascal = (words: string): string =>
  words
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** Drops the keys z.toJSONSchema adds for a standalone schema (an OpenAPI component is not a document). */
function bare(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return bare(z.toJSONSchema(schema, { target: 'draft-2020-12', io }));
}

/** Named schemas, converted together per io so that one named schema inside another becomes a $ref. */
class Components {
  private readonly registries = {
    input: z.registry<{ id: string }>(),
    output: z.registry<{ id: string }>(),
  };
  private readonly names = new Set<string>();

  /** Registers `schema` as `name` (converted as its `io` type) and returns a $ref to it. */
  add(name: string, schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const registry = this.registries[io];
    const existing = registry.get(schema);
    if (existing) return schemaRef(existing.id);
    if (this.names.has(name)) throw new Error(`OpenAPI: two schemas named ${name}`);
    this.names.add(name);
    registry.add(schema, { id: name });
    return schemaRef(name);
  }

  schemas(): Record<string, JsonSchema> {
    const all: Record<string, JsonSchema> = {};
    for (const io of ['input', 'output'] as const) {
      const { schemas } = z.toJSONSchema(this.registries[io], {
        target: 'draft-2020-12',
        io,
        uri: (id) => `#/components/schemas/${id}`,
      });
      for (const [id, schema] of Object.entries(schemas)) all[id] = bare(schema);
    }
    return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** An error response: the error body with its `error.code` fixed. */
function errorResponse(code: string, description: string, headers?: Record<string, Header | Ref>) {
  const codeIs = convert(z.object({ error: z.object({ code: z.literal(code) }) }), 'input');
  const response: ResponseObject = {
    description: `${code}: ${description}`,
    content: { [JSON_MEDIA]: { schema: { allOf: [schemaRef('Error'), codeIs] } } },
  };
  if (headers) response.headers = headers;
  return response;
}

function errorResponses(): Record<string, ResponseObject> {
  return {
    InvalidArgument: errorResponse(
      'INVALID_ARGUMENT',
      'the body, a header or a path parameter is invalid, or the body is not JSON; `details` lists ' +
        '`{path, message}`. (A request node or the functions framework cannot parse at all — a bad request line, ' +
        'bad percent-encoding, a top-level JSON value that is not an object or array on some paths — may get a ' +
        'plain 400 before the api runs.)',
    ),
    NotFound: errorResponse('NOT_FOUND', 'there is nothing with this id.'),
    MethodNotAllowed: errorResponse(
      'METHOD_NOT_ALLOWED',
      'the path does not take this method (any method other than the ones documented for the path); ' +
        '`Allow` lists those.',
      { Allow: ref('#/components/headers/Allow') },
    ),
    IdempotencyKeyReused: errorResponse(
      'IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was used with a different body; nothing was started.',
    ),
    PayloadTooLarge: errorResponse('PAYLOAD_TOO_LARGE', `the body exceeds ${MAX_BODY_BYTES} bytes.`),
    UnsupportedMediaType: errorResponse(
      'UNSUPPORTED_MEDIA_TYPE',
      'the body is not `application/json` (or its charset or Content-Encoding is not supported).',
    ),
    ResourceExhausted: errorResponse(
      'RESOURCE_EXHAUSTED',
      'the engine is too busy to finish one more saga in time; nothing was created. Retry after ' +
        '`Retry-After` seconds with the same Idempotency-Key.',
      { 'Retry-After': ref('#/components/headers/RetryAfter') },
    ),
    Unavailable: errorResponse(
      'UNAVAILABLE',
      'the service is temporarily unavailable. Retrying is safe (a POST: with the same Idempotency-Key, ' +
        'which tells whether the first attempt started a saga).',
    ),
  };
}

function json(description: string, schema: JsonSchema): ResponseObject {
  return { description, content: { [JSON_MEDIA]: { schema } } };
}

function pathParameter(name: string, what: string): Parameter {
  return { name, in: 'path', required: true, description: `the ${what}'s id`, schema: schemaRef('Id') };
}

/** The responses of a GET by id: 200 with `view`, 400, 404 (unless every id is found), 405, 503. */
function readResponses(
  view: JsonSchema,
  what: string,
  notFound = true,
): Record<string, ResponseObject | Ref> {
  return {
    '200': json(`the ${what}`, view),
    '400': responseRef('InvalidArgument'),
    ...(notFound ? { '404': responseRef('NotFound') } : {}),
    '405': responseRef('MethodNotAllowed'),
    '503': responseRef('Unavailable'),
  };
}

function sagaPaths(api: SagaApi, components: Components): Record<string, PathItem> {
  const name = pascal(api.what);
  const type = api.type;
  const location: Header = {
    description: `the new ${api.what}: /${api.resource}/{${api.idName}}`,
    required: true,
    schema: convert(z.string().regex(new RegExp(`^/${api.resource}/${ID_CHARS}$`)), 'output'),
  };
  const start: Operation = {
    operationId: `create${name}`,
    summary: `Start a saga of type ${type}`,
    description:
      'The same Idempotency-Key with the same body answers the same 202 (same id) and starts no second saga. ' +
      'Once a 202 is answered the saga runs to its end; bad input never creates anything.',
    tags: ['sagas'],
    parameters: [ref('#/components/parameters/IdempotencyKey')],
    requestBody: {
      required: true,
      description: `the ${api.what}`,
      content: { [JSON_MEDIA]: { schema: components.add(`${name}Request`, api.request, 'input') } },
    },
    responses: {
      '202': {
        description: `accepted: the ${type} saga is started (or was, for this Idempotency-Key and body)`,
        headers: { Location: location },
        content: {
          [JSON_MEDIA]: { schema: components.add(`${name}Accepted`, acceptedSchema(api.idName), 'output') },
        },
      },
      '400': responseRef('InvalidArgument'),
      '405': responseRef('MethodNotAllowed'),
      '409': responseRef('IdempotencyKeyReused'),
      '413': responseRef('PayloadTooLarge'),
      '415': responseRef('UnsupportedMediaType'),
      '429': responseRef('ResourceExhausted'),
      '503': responseRef('Unavailable'),
    },
  };
  const show: Operation = {
    operationId: `get${name}`,
    summary: `Show one ${api.what} and its saga`,
    tags: ['sagas'],
    parameters: [pathParameter(api.idName, api.what)],
    responses: readResponses(components.add(`${name}View`, api.viewSchema, 'output'), api.what),
  };
  return { [`/${api.resource}`]: { post: start }, [`/${api.resource}/{${api.idName}}`]: { get: show } };
}

function resourcePath(api: ResourceApi, components: Components): Record<string, PathItem> {
  const name = pascal(api.what);
  const show: Operation = {
    operationId: `get${name}`,
    summary: `Show one ${api.what}`,
    tags: ['participants'],
    parameters: [pathParameter(api.idName, api.what)],
    responses: readResponses(
      components.add(`${name}View`, api.viewSchema, 'output'),
      api.what,
      api.everyIdFound !== true,
    ),
  };
  return { [`/${api.resource}/{${api.idName}}`]: { get: show } };
}

function merge(parts: Record<string, PathItem>[]): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  for (const [path, item] of parts.flatMap((p) => Object.entries(p))) {
    if (paths[path]) throw new Error(`OpenAPI: two declarations of ${path}`);
    paths[path] = item;
  }
  return paths;
}

/** The document for these apis (and the api's own routes: /healthz, /sagas/{sagaId}, /openapi.json). */
export function openApiDocument(
  sagas: readonly SagaApi[],
  resources: readonly ResourceApi[],
  info: OpenApiDocument['info'],
): OpenApiDocument {
  const components = new Components();
  components.add('Id', idSchema, 'input');
  components.add('Error', errorBodySchema, 'output');
  const paths: Record<string, PathItem> = {
    [HEALTHZ_PATH]: {
      get: {
        operationId: 'getHealth',
        summary: 'Liveness: 200 once every function and subscription is wired',
        tags: ['service'],
        responses: {
          '200': json('ready', components.add('Health', healthSchema, 'output')),
          '405': responseRef('MethodNotAllowed'),
        },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'getOpenApi',
        summary: 'This document',
        tags: ['service'],
        responses: {
          '200': json('the OpenAPI 3.1 document of this api', convert(openApiDocumentSchema, 'output')),
          '405': responseRef('MethodNotAllowed'),
          '503': responseRef('Unavailable'),
        },
      },
    },
    ...merge(sagas.map((api) => sagaPaths(api, components))),
    [SAGA_PATH]: {
      get: {
        operationId: 'getSaga',
        summary: 'Show one saga of any type',
        tags: ['sagas'],
        parameters: [pathParameter('sagaId', 'saga')],
        responses: readResponses(components.add('SagaView', sagaViewSchema, 'output'), 'saga'),
      },
    },
    ...merge(resources.map((api) => resourcePath(api, components))),
  };
  return {
    openapi: OPENAPI_VERSION,
    info,
    tags: [
      { name: 'sagas', description: 'start sagas and show them' },
      { name: 'participants', description: 'what the participants hold' },
      { name: 'service', description: 'health and this document' },
    ],
    paths,
    components: {
      schemas: components.schemas(),
      responses: errorResponses(),
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'makes the POST safe to retry: the same key with the same body answers the same response and ' +
            'starts no second saga; with a different body, 409',
          schema: convert(idempotencyKeySchema, 'input'),
        },
      },
      headers: {
        Allow: {
          description: 'the methods the path takes',
          required: true,
          schema: convert(z.string().regex(/^(GET|POST)(, (GET|POST))*$/), 'output'),
        },
        RetryAfter: {
          description: 'seconds to wait before retrying',
          required: true,
          schema: convert(z.int().min(1).max(MAX_RETRY_AFTER_S), 'output'),
        },
      },
    },
  };
}
