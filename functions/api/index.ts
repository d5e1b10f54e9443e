/**
 * The `api` HTTP function: routes derived from the declared saga and resource apis (shared/registry.ts); HTTP concerns
 * only (methods, media type, size, error bodies); everything else is one ApiService call.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { RESOURCE_APIS, SAGA_APIS } from '../../shared/registry';
import { admissionFromConfig, type Admission } from '../../shared/runtime/admission';
import type { ResourceApi, SagaApi } from '../../shared/runtime/api/declarations';
import {
  ApiError,
  idempotencyKeyOf,
  invalid,
  jsonBody,
  parseId,
  routeOf,
  router,
  type Route,
} from '../../shared/runtime/api/http';
import {
  HEALTHZ_PATH,
  healthSchema,
  OPENAPI_PATH,
  openApiDocument,
  SAGA_PATH,
  type OpenApiDocument,
} from '../../shared/runtime/api/openapi';
import { errorBody } from '../../shared/runtime/http/error-body';
import { emptyMetrics, measure, metricsFields } from '../../shared/runtime/metrics';
import {
  extractContext,
  inSpan,
  SpanKind,
  SpanStatusCode,
  TRACEPARENT,
  TRACESTATE,
} from '../../shared/runtime/telemetry/tracing';
import { context } from '../context';
import { ApiService } from './service';

/** The one message of every 503: retrying is safe (a POST with its Idempotency-Key). */
export const UNAVAILABLE_MESSAGE =
  'the service is temporarily unavailable; retry later (POST /orders, POST /trips: with the same Idempotency-Key)';

let admission: Admission | undefined;
const service = (): ApiService => new ApiService(context(), (admission ??= admissionFromConfig(context())));

function send(res: Response, view: Record<string, unknown> | null, what: string): void {
  if (!view) throw new ApiError(404, 'NOT_FOUND', `${what} not found`);
  res.status(200).json(view);
}

async function start(api: SagaApi, req: Request, res: Response): Promise<void> {
  const body = jsonBody(req, api.request, api.what);
  const key = idempotencyKeyOf(req);
  const metrics = emptyMetrics();
  const t0 = performance.now();
  const started = await measure(metrics, () => service().start(api, body, key));
  res
    .status(202)
    .location(`/${api.resource}/${started.sagaId}`)
    .json({ [api.idName]: started.sagaId, status: started.status });
  // The api's line of the per-message cost log (see shared/runtime/metrics.ts and shared/runtime/http/push-handler.ts).
  context()
    .log.child({ sagaId: started.sagaId, orderId: started.sagaId })
    .info(`${api.what} placed`, {
      type: api.type,
      replayed: started.replayed,
      ...metricsFields(metrics),
      handlerMs: Math.round((performance.now() - t0) * 10) / 10,
    });
}

const sagaRoutes = (api: SagaApi): Route[] => [
  { path: `/${api.resource}`, methods: { POST: (req, res) => start(api, req, res) } },
  {
    path: `/${api.resource}/{${api.idName}}`,
    methods: {
      GET: async (_q, res, id) => send(res, await service().view(api, parseId(id, api.idName)), api.what),
    },
  },
];

const resourceRoute = (api: ResourceApi): Route => ({
  path: `/${api.resource}/{${api.idName}}`,
  methods: {
    GET: async (_q, res, id) => send(res, await service().resource(api, parseId(id, api.idName)), api.what),
  },
});

const HEALTHY: z.infer<typeof healthSchema> = { status: 'ok' };

/** A handler's answer that needs no I/O: 200 with `body` (a Handler returns a promise). */
function ok(res: Response, body: unknown): Promise<void> {
  res.status(200).json(body);
  return Promise.resolve();
}

/** The OpenAPI document of these routes (GET /openapi.json), built once, on first use. */
let document: OpenApiDocument | undefined;
export const apiDocument = (): OpenApiDocument =>
  (document ??= openApiDocument(SAGA_APIS, RESOURCE_APIS, {
    title: 'Saga api',
    version: '1.0.0',
    description: 'Start sagas and show them, with what the participants hold.',
  }));

export const ROUTES: readonly Route[] = [
  { path: HEALTHZ_PATH, methods: { GET: (_req, res) => ok(res, HEALTHY) } },
  { path: OPENAPI_PATH, methods: { GET: (_req, res) => ok(res, apiDocument()) } },
  ...SAGA_APIS.flatMap(sagaRoutes),
  {
    path: SAGA_PATH,
    methods: { GET: async (_q, res, id) => send(res, await service().saga(parseId(id, 'sagaId')), 'saga') },
  },
  ...RESOURCE_APIS.map(resourceRoute),
];

const route = router(ROUTES);

/**
 * Every request but the health check is a span: it continues the caller's W3C `traceparent`, else starts a trace —
 * for a POST that starts a saga, the saga's root span.
 */
export const api = async (req: Request, res: Response): Promise<void> => {
  context(); // installs tracing (once per process) before the first span
  const declared = routeOf(ROUTES, req.path);
  if (declared === HEALTHZ_PATH) return handle(req, res);
  const incoming: Record<string, string> = {};
  for (const h of [TRACEPARENT, TRACESTATE]) {
    const v = req.get(h);
    if (v !== undefined) incoming[h] = v;
  }
  await inSpan(
    `${req.method} ${declared ?? '(no route)'}`,
    {
      kind: SpanKind.SERVER,
      root: true,
      parent: extractContext(incoming),
      attributes: { 'http.request.method': req.method, 'http.route': declared ?? '', 'url.path': req.path },
    },
    async (span) => {
      await handle(req, res);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    },
  );
};

async function handle(req: Request, res: Response): Promise<void> {
  try {
    await route(req, res);
  } catch (err) {
    if (err instanceof ApiError) {
      res.set(err.headers).status(err.status).json(err.body());
      return;
    }
    if (err instanceof URIError) {
      res.status(400).json(invalid('malformed percent-encoding in path').body());
      return;
    }
    // What failed inside is for the log, not for the client (it may name collections, hosts, internals).
    context().log.error('api request failed', { error: err, path: req.path, method: req.method });
    res.status(503).json(errorBody('UNAVAILABLE', UNAVAILABLE_MESSAGE));
  }
}
