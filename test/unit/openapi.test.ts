/**
 * The OpenAPI document (GET /openapi.json): valid OpenAPI 3.1 by the official schemas, one operation per route and
 * method of the api function, every $ref resolving, every schema a valid strict JSON Schema 2020-12, and request
 * schemas that accept and refuse the same bodies as the zod schemas they were converted from. Checked for the
 * served document and for one with every api in the repository (trips, flights, hotels, cars too).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { apiDocument, ROUTES } from '../../functions/api';
import { RESOURCE_APIS, SAGA_APIS } from '../../shared/registry';
import { carsView } from '../../shared/participants/cars';
import { flightsView } from '../../shared/participants/flights';
import { hotelsView } from '../../shared/participants/hotels';
import type { ResourceApi, SagaApi } from '../../shared/runtime/api/declarations';
import { ApiError, idempotencyKeySchema } from '../../shared/runtime/api/http';
import {
  openApiDocument,
  type HttpMethod,
  type OpenApiDocument,
  type Operation,
  type Parameter,
} from '../../shared/runtime/api/openapi';
import { ID_PATTERN } from '../../shared/runtime/messages';
import { tripApi } from '../../shared/sagas/trip-booking/api';
import { requestExamples } from '../support/api-examples';
import { expectAny } from '../support/matchers';
import {
  HTTP_METHODS,
  OpenApiValidator,
  pointerSegment,
  refsIn,
  resolvePointer,
} from '../support/openapi-validator';

const served = apiDocument();
const everySaga: SagaApi[] = [...new Set([...SAGA_APIS, tripApi])];
const everyResource: ResourceApi[] = [...new Set([...RESOURCE_APIS, flightsView, hotelsView, carsView])];
const everything = openApiDocument(everySaga, everyResource, { title: 'every api', version: '0' });

const DOCUMENTS: [string, OpenApiDocument, readonly SagaApi[], readonly ResourceApi[]][] = [
  ['served', served, SAGA_APIS, RESOURCE_APIS],
  ['every api', everything, everySaga, everyResource],
];

const operations = (doc: OpenApiDocument): { path: string; method: HttpMethod; op: Operation }[] =>
  Object.entries(doc.paths).flatMap(([p, item]) =>
    HTTP_METHODS.flatMap((method) => {
      const op = item[method];
      return op ? [{ path: p, method, op }] : [];
    }),
  );

const parameters = (doc: OpenApiDocument, op: Operation): Parameter[] =>
  (op.parameters ?? []).map((p) => {
    if (!('$ref' in p)) return p;
    const resolved = doc.components.parameters[p.$ref.replace('#/components/parameters/', '')];
    if (!resolved) throw new Error(`unresolved ${p.$ref}`);
    return resolved;
  });

/** Pointers of every schema in the document: components/schemas and each `schema` of a parameter, body, header. */
function schemaPointers(doc: OpenApiDocument): string[] {
  const found = Object.keys(doc.components.schemas).map((n) => `/components/schemas/${pointerSegment(n)}`);
  const walk = (value: unknown, at: string): void => {
    if (typeof value !== 'object' || value === null) return;
    const entries: [string, unknown][] = Object.entries(value);
    for (const [k, v] of entries) {
      if (k === 'schema') found.push(`${at}/schema`);
      else walk(v, `${at}/${pointerSegment(k)}`);
    }
  };
  walk(doc.paths, '/paths');
  walk(doc.components.responses, '/components/responses');
  walk(doc.components.parameters, '/components/parameters');
  walk(doc.components.headers, '/components/headers');
  return found;
}

test('the served document is built once per process', () => {
  expect(apiDocument()).toBe(served);
});

describe.each(DOCUMENTS)('the %s document', (_name, doc, sagas, resources) => {
  const v = new OpenApiValidator(doc);

  test('is valid OpenAPI 3.1 by the official schema (@seriousme/openapi-schema-validator)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const pkg = path.dirname(require.resolve('@seriousme/openapi-schema-validator/package.json'));
    const cli = path.join(pkg, 'bin', 'validate-api-cli.js');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [cli, file]);
      expect(JSON.parse(stdout)).toEqual({ valid: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  });

  test('every $ref resolves', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(10);
    const unresolved = refs.filter((r) => resolvePointer(doc, r.ref) === undefined);
    expect(unresolved).toEqual([]);
  });

  test('every schema is a valid JSON Schema 2020-12 (ajv, strict mode)', () => {
    const pointers = schemaPointers(doc);
    expect(pointers.length).toBeGreaterThan(20);
    for (const p of pointers) expect(() => v.schemaAt(p)).not.toThrow();
  });

  test('every operation has an id, a success response, 405, and its path parameters', () => {
    const ids = operations(doc).map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path: p, method, op } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      expect([p, method, statuses.some((s) => /^2\d\d$/.test(s))]).toEqual([p, method, true]);
      expect(statuses).toContain('405');
      const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = parameters(doc, op).filter((q) => q.in === 'path');
      expect(declared.map((q) => q.name)).toEqual(inPath);
      for (const q of declared) {
        expect(q.required).toBe(true);
        expect(doc.components.schemas[q.schema.$ref?.replace('#/components/schemas/', '') ?? '']).toEqual({
          type: 'string',
          pattern: ID_PATTERN.source,
        });
      }
    }
  });

  test('POST /<resource> of every saga: body, Idempotency-Key, 202 with Location, and its errors', () => {
    for (const api of sagas) {
      const p = `/${api.resource}`;
      const op = v.operation(p, 'post');
      expect(op.requestBody?.required).toBe(true);
      expect(Object.keys(op.responses).sort()).toEqual(
        ['202', '400', '405', '409', '413', '415', '429', '503'].sort(),
      );
      const key = parameters(doc, op).find((q) => q.in === 'header');
      expect(key).toMatchObject({ name: 'Idempotency-Key', required: false });
      expect(key?.schema).toMatchObject({ type: 'string', pattern: expectAny(String) });
      const accepted = v.response(p, 'post', 202)!.response;
      expect(accepted.headers?.Location).toMatchObject({ required: true });
      const sagaId = '0d9a2e5e-6c1b-4f7e-9a51-3c1f2d1e8a77';
      const headers = new Headers({
        'content-type': 'application/json',
        location: `/${api.resource}/${sagaId}`,
      });
      const body = { [api.idName]: sagaId, status: 'PENDING' };
      expect(v.validateResponse(p, 'post', { status: 202, body, headers })).toEqual([]);
      expect(
        v.validateResponse(p, 'post', { status: 202, body: { ...body, status: 'DONE' }, headers }),
      ).not.toEqual([]);
      expect(
        v.validateResponse(p, 'post', {
          status: 202,
          body,
          headers: new Headers({ location: '/elsewhere/x' }),
        }),
      ).not.toEqual([]);
      const busy = new ApiError(429, 'RESOURCE_EXHAUSTED', 'busy', [], { 'Retry-After': '3' });
      const json = { 'content-type': 'application/json; charset=utf-8' };
      expect(
        v.validateResponse(p, 'post', {
          status: 429,
          body: busy.body(),
          headers: new Headers({ ...json, ...busy.headers }),
        }),
      ).toEqual([]);
      expect(
        v.validateResponse(p, 'post', { status: 429, body: busy.body(), headers: new Headers(json) }),
      ).toEqual(['header Retry-After is missing']);
    }
  });

  test('GET by id: 200 with the view, 400, 404 (unless every id has a view), 503', () => {
    const reads = [
      ...sagas.map((a) => ({ p: `/${a.resource}/{${a.idName}}`, found: false })),
      { p: '/sagas/{sagaId}', found: false },
      ...resources.map((a) => ({ p: `/${a.resource}/{${a.idName}}`, found: a.everyIdFound === true })),
    ];
    for (const { p, found } of reads) {
      const statuses = Object.keys(v.operation(p, 'get').responses).sort();
      expect([p, statuses]).toEqual([
        p,
        (found ? ['200', '400', '405', '503'] : ['200', '400', '404', '405', '503']).sort(),
      ]);
    }
  });

  test('error responses are the error body with their code', () => {
    const json = new Headers({ 'content-type': 'application/json' });
    const notFound = new ApiError(404, 'NOT_FOUND', 'saga not found').body();
    expect(
      v.validateResponse('/sagas/{sagaId}', 'get', { status: 404, body: notFound, headers: json }),
    ).toEqual([]);
    expect(
      v.validateResponse('/sagas/{sagaId}', 'get', { status: 400, body: notFound, headers: json }),
    ).not.toEqual([]);
    const invalid = new ApiError(400, 'INVALID_ARGUMENT', 'invalid sagaId', [
      { path: 'sagaId', message: 'x' },
    ]);
    expect(
      v.validateResponse('/sagas/{sagaId}', 'get', { status: 400, body: invalid.body(), headers: json }),
    ).toEqual([]);
    const noAllow = v.validateResponse('/healthz', 'get', {
      status: 405,
      body: new ApiError(405, 'METHOD_NOT_ALLOWED', 'no').body(),
      headers: json,
    });
    expect(noAllow).toEqual(['header Allow is missing']);
  });

  test.each(sagas.map((a) => [a.resource, a] as const))(
    'POST /%s: the document accepts and refuses the same bodies as the zod schema',
    (resource, api) => {
      const examples = requestExamples(resource);
      const p = `/${resource}`;
      const verdicts = (bodies: unknown[]) =>
        bodies.map((body) => ({
          body,
          zod: api.request.safeParse(body).success,
          openapi: v.validateRequest(p, 'post', body).length === 0,
        }));
      for (const r of verdicts(examples.valid)) expect(r).toEqual({ ...r, zod: true, openapi: true });
      for (const r of verdicts(examples.invalid)) expect(r).toEqual({ ...r, zod: false, openapi: false });
      for (const r of verdicts(examples.refusedByZodOnly))
        expect(r).toEqual({ ...r, zod: false, openapi: true });
    },
  );
});

test('every route of the api function is documented with exactly its methods, and nothing else', () => {
  const routes = Object.fromEntries(
    ROUTES.map((r) => [
      r.path,
      Object.keys(r.methods)
        .map((m) => m.toLowerCase())
        .sort(),
    ]),
  );
  const documented = Object.fromEntries(
    Object.entries(served.paths).map(([p, item]) => [p, Object.keys(item).sort()]),
  );
  expect(documented).toEqual(routes);
  expect(Object.keys(routes)).toEqual(
    expect.arrayContaining(['/healthz', '/openapi.json', '/sagas/{sagaId}']),
  );
});

test('the Idempotency-Key schema accepts and refuses the same keys as zod', () => {
  const v = new OpenApiValidator(served);
  const schema = v.schemaAt('/components/parameters/IdempotencyKey/schema');
  for (const key of [
    'k',
    'a'.repeat(200),
    'a'.repeat(201),
    '',
    'key with spaces ~!',
    'tab\there',
    'é',
    '\u007f',
  ]) {
    expect({ key, openapi: schema(key) }).toEqual({
      key,
      openapi: idempotencyKeySchema.safeParse(key).success,
    });
  }
});
