/**
 * The `console` HTTP function (contract §9): the operator console. Routes, input checks and security headers; the
 * reads and the redrive are ConsoleService calls, the HTML is pages.ts.
 *
 *   GET  /                      sagas of every type, newest first (filters type, status, version; ?id= finds one)
 *   GET  /sagas/{sagaId}        one saga: timeline, steps, dead letters, data, history
 *   GET  /dead-letters          dead letters, newest first (?saga= one saga's)
 *   POST /dead-letters/redrive  redrive one (id, force) or all not redriven (all), once confirmed
 *   GET  /failed                FAILED sagas and what to do
 *   GET  /metrics               the stack's metrics (local), or where they are (Cloud Monitoring)
 */
import { randomBytes } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import type { Request, Response } from '@google-cloud/functions-framework';
import { registry } from '../../shared/registry';
import type { SagaStatus } from '../../shared/runtime/engine/types';
import { idSchema } from '../../shared/runtime/messages';
import { CursorError } from '../../shared/runtime/store/cursor';
import { context } from '../context';
import {
  confirmPage,
  deadLettersPage,
  errorPage,
  failedPage,
  listPage,
  SAGA_STATUSES,
  sagaPage,
  type Frame,
  type DeadLettersModel,
} from './pages';
import { pathOf } from './html';
import { metricsPage } from './metrics-page';
import { aggregateSnapshots, readSnapshots } from '../../shared/runtime/telemetry/metrics-file';
import { ConsoleService } from './service';

/** A request the console refuses, with the page's status and message. */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string): ConsoleError => new ConsoleError(400, 'Bad request', message);

let pubsub: PubSub | undefined;
let service: ConsoleService | undefined;
const consoleService = (): ConsoleService =>
  (service ??= new ConsoleService(
    context(),
    () => (pubsub ??= new PubSub({ projectId: context().config.projectId })),
  ));

const SAGA_PAGE = 25;
const DEAD_LETTER_PAGE = 50;
const FAILED_PAGE = 20;
const DEAD_LETTER_ID = /^[0-9a-f]{32}$/;

type Fields = Record<string, unknown>;

/** A single text parameter (repeated or nested parameters are refused). */
function text(fields: Fields, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`parameter ${name} must be given once, as text`);
  return v;
}

function integer(fields: Fields, name: string, min: number, max: number): number | undefined {
  const v = text(fields, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw bad(`${name} must be an integer from ${min} to ${max} (got ${v})`);
  return n;
}

function sagaIdOf(raw: string, what: string): string {
  if (!idSchema.safeParse(raw).success)
    throw bad(`${what} must be 1-64 letters, digits, '_' or '-' (got ${raw.slice(0, 100)})`);
  return raw;
}

function sagaTypes(): string[] {
  return registry.sagas().map((b) => b.definition.type);
}

function filterOf(q: Fields): {
  type?: string;
  status?: SagaStatus;
  version?: number;
  limit: number;
  after?: string;
} {
  const type = text(q, 'type');
  if (type !== undefined && !sagaTypes().includes(type))
    throw bad(`unknown saga type ${type}: one of ${sagaTypes().join(', ')}`);
  const status = text(q, 'status');
  const known = SAGA_STATUSES.find((s) => s === status);
  if (status !== undefined && !known)
    throw bad(`unknown status ${status}: one of ${SAGA_STATUSES.join(', ')}`);
  const version = integer(q, 'version', 1, 1000);
  if (version !== undefined && type === undefined) throw bad('a version filter needs a saga type');
  const after = text(q, 'after');
  return {
    limit: integer(q, 'limit', 1, 200) ?? SAGA_PAGE,
    ...(type !== undefined ? { type } : {}),
    ...(known ? { status: known } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(after !== undefined ? { after } : {}),
  };
}

function send(res: Response, frame: Frame, status: number, body: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      // Only this response's own stylesheet and script run; nothing loads from anywhere, forms post back here.
      'Content-Security-Policy': [
        "default-src 'none'",
        `style-src 'nonce-${frame.nonce}'`,
        `script-src 'nonce-${frame.nonce}'`,
        "img-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    .send(body);
}

async function get(req: Request, res: Response, frame: Frame, path: string): Promise<void> {
  const q = req.query as Fields;
  const svc = consoleService();
  if (path === '/') {
    const id = text(q, 'id');
    if (id !== undefined) {
      res.redirect(303, pathOf('/sagas/', sagaIdOf(id.trim(), 'a saga id')));
      return;
    }
    const filter = filterOf(q);
    const { rows, next } = await svc.list(filter);
    send(res, frame, 200, listPage(frame, { ...filter, rows, next, types: sagaTypes() }));
    return;
  }
  if (path.startsWith('/sagas/')) {
    const id = sagaIdOf(decodeURIComponent(path.slice('/sagas/'.length)), 'a saga id');
    const detail = await svc.saga(id);
    if (!detail) throw new ConsoleError(404, 'Not found', `no saga ${id}`);
    send(res, frame, 200, sagaPage(frame, detail, Date.now()));
    return;
  }
  if (path === '/dead-letters') {
    const saga = text(q, 'saga');
    const after = text(q, 'after');
    await showDeadLetters(res, frame, svc, {
      limit: integer(q, 'limit', 1, 500) ?? DEAD_LETTER_PAGE,
      ...(saga !== undefined ? { saga: sagaIdOf(saga, 'saga') } : {}),
      ...(after !== undefined ? { after } : {}),
    });
    return;
  }
  if (path === '/failed') {
    const after = text(q, 'after');
    const { rows, next } = await svc.failed(FAILED_PAGE, after);
    send(res, frame, 200, failedPage(frame, { rows, next, ...(after !== undefined ? { after } : {}) }));
    return;
  }
  if (path === '/metrics') {
    const { mode, dir } = context().config.metrics;
    const summary = aggregateSnapshots(mode === 'local' ? readSnapshots(dir) : []);
    send(res, frame, 200, metricsPage(frame, { mode, dir, summary }));
    return;
  }
  throw new ConsoleError(404, 'Not found', `no page ${path}`);
}

async function redrive(req: Request, res: Response, frame: Frame): Promise<void> {
  // A form of this console posts same-origin; a browser says so (Sec-Fetch-Site), so a cross-site post is refused.
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin')
    throw new ConsoleError(403, 'Forbidden', 'a redrive must be posted from the console itself');
  const parseError = (req as Request & { bodyParseError?: { status?: number; message?: string } })
    .bodyParseError;
  if (parseError)
    throw new ConsoleError(parseError.status ?? 400, 'Bad request', parseError.message ?? 'bad body');
  if (!req.is('application/x-www-form-urlencoded'))
    throw new ConsoleError(
      415,
      'Unsupported media type',
      'post the console form (application/x-www-form-urlencoded)',
    );
  const form: Fields = typeof req.body === 'object' && req.body !== null ? (req.body as Fields) : {};
  const all = text(form, 'all') === 'yes';
  const id = text(form, 'id');
  if (all === (id !== undefined)) throw bad('give either a dead-letter id or all=yes');
  if (id !== undefined && !DEAD_LETTER_ID.test(id)) throw bad(`not a dead-letter id: ${id.slice(0, 100)}`);
  const force = text(form, 'force') === 'yes';
  const sagaRaw = text(form, 'saga');
  const saga = sagaRaw === undefined ? undefined : sagaIdOf(sagaRaw, 'saga');
  const svc = consoleService();
  if (text(form, 'confirm') !== 'yes') {
    const what =
      id === undefined ? { all: true as const } : { id, force, record: await context().deadLetters.get(id) };
    send(res, frame, 200, confirmPage(frame, what, saga));
    return;
  }
  const results = await svc.redrive(id === undefined ? { all: true } : { id, force });
  context().log.info('console redrive', {
    all,
    results: results.length,
    redriven: results.filter((r) => r.result === 'redriven').length,
  });
  if (results.some((r) => r.result === 'not-found'))
    throw new ConsoleError(404, 'Not found', `no dead letter ${id ?? ''}`);
  await showDeadLetters(res, frame, svc, {
    limit: DEAD_LETTER_PAGE,
    results,
    ...(saga !== undefined ? { saga } : {}),
  });
}

/** The dead-letters page: one saga's records (not paged), or a page of all of them; with a redrive's results. */
async function showDeadLetters(
  res: Response,
  frame: Frame,
  svc: ConsoleService,
  m: { limit: number; saga?: string; after?: string; results?: DeadLettersModel['results'] },
): Promise<void> {
  if (m.saga !== undefined) {
    const items = await svc.deadLettersOf(m.saga);
    send(res, frame, 200, deadLettersPage(frame, { ...m, items, next: null, limit: items.length }));
    return;
  }
  const page = await svc.deadLetters(m.limit, m.after);
  send(
    res,
    frame,
    200,
    deadLettersPage(frame, { ...m, items: page.items.map((i) => i.value), next: page.next }),
  );
}

const handle = async (req: Request, res: Response): Promise<void> => {
  const frame: Frame = { nonce: randomBytes(16).toString('base64'), project: context().config.projectId };
  try {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    if (path === '/favicon.ico') {
      res.status(204).end();
      return;
    }
    if (path === '/dead-letters/redrive') {
      if (req.method !== 'POST') {
        res.set('Allow', 'POST');
        throw new ConsoleError(405, 'Method not allowed', `${req.method} is not allowed on ${path}`);
      }
      await redrive(req, res, frame);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      throw new ConsoleError(405, 'Method not allowed', `${req.method} is not allowed on ${path}`);
    }
    await get(req, res, frame, path);
  } catch (err) {
    if (err instanceof ConsoleError) {
      send(res, frame, err.status, errorPage(frame, err.status, err.title, err.message));
      return;
    }
    if (err instanceof CursorError || err instanceof URIError) {
      send(
        res,
        frame,
        400,
        errorPage(
          frame,
          400,
          'Bad request',
          err instanceof CursorError ? 'not a cursor of this list' : 'malformed percent-encoding in the path',
        ),
      );
      return;
    }
    context().log.error('console request failed', { error: err, path: req.path, method: req.method });
    send(
      res,
      frame,
      503,
      errorPage(frame, 503, 'Unavailable', 'the console could not read the data; retry later'),
    );
  }
};

export { handle as console };
