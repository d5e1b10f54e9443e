/**
 * HTTP concerns of the api, for every saga: the contract's error body, JSON body checks (size, media type, parse
 * errors), the Idempotency-Key header, id path segments, and routing with 404 / 405.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { errorBody, type ErrorBody, type ErrorDetail } from '../http/error-body';
import { API_MAX_BODY_BYTES } from '../http/limits';
import { idSchema } from '../messages';

export const MAX_BODY_BYTES = API_MAX_BODY_BYTES;

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7E]{1,200}$/, 'must be 1-200 printable ASCII characters');

/** A payment token or other free text stored in Firestore: a lone surrogate cannot be encoded as UTF-8. */
export const wellFormedText = (max: number): z.ZodString =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^\P{Cs}*$/u, 'must be well-formed Unicode (no lone surrogates)');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Response headers that go with the error (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return errorBody(this.code, this.message, this.details);
  }
}

export function invalid(message: string, details: ErrorDetail[] = []): ApiError {
  return new ApiError(400, 'INVALID_ARGUMENT', message, details);
}

export function zodDetails(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.slice(0, 20).map((i) => ({
    path: [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.') || '(body)',
    message: i.message,
  }));
}

export function parseId(value: string, what: string): string {
  const r = idSchema.safeParse(value);
  if (!r.success)
    throw invalid(`invalid ${what}`, [{ path: what, message: r.error.issues[0]?.message ?? 'invalid' }]);
  return r.data;
}

/** The JSON body of a POST, checked for size, media type and parse errors, then validated with `schema`. */
export function jsonBody<T>(req: Request, schema: z.ZodType<T>, what: string): T {
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
  const body = schema.safeParse(req.body);
  if (!body.success) throw invalid(`invalid ${what}`, zodDetails(body.error));
  return body.data;
}

/** The optional Idempotency-Key header (null when absent). */
export function idempotencyKeyOf(req: Request): string | null {
  const header = req.headers['idempotency-key'];
  if (header === undefined) return null;
  const k = idempotencyKeySchema.safeParse(Array.isArray(header) ? header.join(',') : header);
  if (!k.success)
    throw invalid('invalid Idempotency-Key', [
      { path: 'Idempotency-Key', message: k.error.issues[0]?.message ?? 'invalid' },
    ]);
  return k.data;
}

export type Handler = (req: Request, res: Response, id: string) => Promise<void>;

export interface Route {
  /** `/orders` or `/orders/{orderId}` (one path parameter at most). */
  path: string;
  methods: Partial<Record<'GET' | 'POST', Handler>>;
}

function patternOf(path: string): RegExp {
  const escaped = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/, '([^/]+)');
  return new RegExp(`^${escaped}$`);
}

/** Finds the route of a path and runs its handler; unknown paths are 404, other methods 405 with Allow. */
/** The declared path (e.g. `/orders/{orderId}`) a request path is routed to, or null: names the request's span. */
export function routeOf(routes: readonly Route[], requestPath: string): string | null {
  const path = requestPath.length > 1 ? requestPath.replace(/\/+$/, '') : requestPath;
  return routes.find((r) => patternOf(r.path).test(path))?.path ?? null;
}

export function router(routes: readonly Route[]): (req: Request, res: Response) => Promise<void> {
  const compiled = routes.map((r) => ({ ...r, pattern: patternOf(r.path) }));
  return async (req, res) => {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const route = compiled.find((r) => r.pattern.test(path));
    if (!route) throw new ApiError(404, 'NOT_FOUND', `no route for ${path}`);
    const handler = route.methods[req.method as 'GET' | 'POST'];
    if (!handler) {
      res.set('Allow', Object.keys(route.methods).join(', '));
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`);
    }
    const id = decodeURIComponent(route.pattern.exec(path)?.[1] ?? '');
    await handler(req, res, id);
  };
}
