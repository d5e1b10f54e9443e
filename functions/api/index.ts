/**
 * The `api` HTTP function: routing and HTTP concerns only (methods, media type, size, error bodies);
 * everything else is one OrderService call.
 */
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../../shared/errors';
import { errorBody } from '../../shared/http/error-body';
import { emptyMetrics, measure, metricsFields } from '../../shared/metrics';
import { context } from '../context';
import { OrderService } from './service';
import {
  ApiError,
  idempotencyKeySchema,
  invalid,
  MAX_BODY_BYTES,
  parseId,
  placeOrderSchema,
  zodDetails,
} from './validation';

type Route = {
  pattern: RegExp;
  methods: Record<string, (req: Request, res: Response, id: string) => Promise<void>>;
};

const service = (): OrderService => new OrderService(context());

async function sendView(res: Response, view: Record<string, unknown> | null, what: string): Promise<void> {
  if (!view) throw new ApiError(404, 'NOT_FOUND', `${what} not found`);
  res.status(200).json(view);
}

const routes: Route[] = [
  {
    pattern: /^\/healthz$/,
    methods: { GET: async (_req, res) => void res.status(200).json({ status: 'ok' }) },
  },
  { pattern: /^\/orders$/, methods: { POST: placeOrder } },
  {
    pattern: /^\/orders\/([^/]+)$/,
    methods: {
      GET: async (_q, res, id) => sendView(res, await service().order(parseId(id, 'orderId')), 'order'),
    },
  },
  {
    pattern: /^\/customers\/([^/]+)$/,
    methods: {
      GET: async (_q, res, id) =>
        sendView(res, await service().customer(parseId(id, 'customerId')), 'customer'),
    },
  },
  {
    pattern: /^\/inventory\/([^/]+)$/,
    methods: {
      GET: async (_q, res, id) => sendView(res, await service().inventory(parseId(id, 'sku')), 'sku'),
    },
  },
  {
    pattern: /^\/payments\/([^/]+)$/,
    methods: {
      GET: async (_q, res, id) => void res.status(200).json(await service().payment(parseId(id, 'orderId'))),
    },
  },
];

async function placeOrder(req: Request, res: Response): Promise<void> {
  const raw = (req as Request & { rawBody?: Buffer }).rawBody;
  const length = raw?.length ?? Number(req.headers['content-length'] ?? 0);
  if (length > MAX_BODY_BYTES)
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `body exceeds ${MAX_BODY_BYTES} bytes`);
  if (!req.is('application/json')) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  }
  const parseError = (req as Request & { bodyParseError?: Error & { status?: number } }).bodyParseError;
  if (parseError?.status === 415) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', parseError.message);
  if (parseError?.status === 413) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', parseError.message);
  if (parseError) throw invalid('body is not valid JSON', [{ path: '(body)', message: parseError.message }]);
  const body = placeOrderSchema.safeParse(req.body);
  if (!body.success) throw invalid('invalid order', zodDetails(body.error));
  const keyHeader = req.headers['idempotency-key'];
  let key: string | null = null;
  if (keyHeader !== undefined) {
    const k = idempotencyKeySchema.safeParse(Array.isArray(keyHeader) ? keyHeader.join(',') : keyHeader);
    if (!k.success)
      throw invalid('invalid Idempotency-Key', [
        { path: 'Idempotency-Key', message: k.error.issues[0]!.message },
      ]);
    key = k.data;
  }
  const metrics = emptyMetrics();
  const t0 = performance.now();
  const placed = await measure(metrics, () => service().place(body.data, key));
  res
    .status(202)
    .location(`/orders/${placed.orderId}`)
    .json({ orderId: placed.orderId, status: placed.status });
  // The api's line of the per-message cost log (see shared/metrics.ts and shared/http/push-handler.ts).
  context()
    .log.child({ sagaId: placed.orderId, orderId: placed.orderId })
    .info('order placed', {
      replayed: placed.replayed,
      ...metricsFields(metrics),
      handlerMs: Math.round((performance.now() - t0) * 10) / 10,
    });
}

export const api: HttpFunction = async (req, res) => {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  try {
    const route = routes.find((r) => r.pattern.test(path));
    if (!route) throw new ApiError(404, 'NOT_FOUND', `no route for ${path}`);
    const handler = route.methods[req.method];
    if (!handler) {
      res.set('Allow', Object.keys(route.methods).join(', '));
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`);
    }
    const id = decodeURIComponent(route.pattern.exec(path)?.[1] ?? '');
    await handler(req, res, id);
  } catch (err) {
    if (err instanceof ApiError) {
      res.status(err.status).json(err.body());
      return;
    }
    if (err instanceof URIError) {
      res.status(400).json(invalid('malformed percent-encoding in path').body());
      return;
    }
    context().log.error('api request failed', { error: err, path, method: req.method });
    res.status(503).json(errorBody('UNAVAILABLE', errorMessage(err)));
  }
};
