/**
 * The open-loop driver: orders are posted without waiting for their sagas, either
 *   - as fast as the api accepts them (`clients` posting clients, each posting its next order as soon as the api
 *     answered the previous one), or
 *   - at a fixed arrival rate (one arrival every 1/rate s, each posting its order on its own: a slow or refused
 *     POST never holds the arrival clock back).
 * A `429` is honoured like a well-behaved client does: sleep `Retry-After` seconds, then retry the same order with
 * the same `Idempotency-Key` (so a retry can never place it twice). A 5xx or a network error is retried the same
 * way after 1 s, a few times.
 *
 * Completion is tracked apart from posting, cheaply: the SagaWatcher asks Firestore once a second for the sagas that
 * became terminal since its cursor (one query, a few documents each), and only when that finds nothing for a while
 * reads the still-pending sagas directly. Latency = the order's first POST attempt → its saga's terminal history
 * entry (the orchestrator's clock, on this machine), as in bench/load.ts.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS } from '../shared/runtime/store/collections';
import type { OrderRequest } from './load';
import { Progress } from './progress';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const TERMINAL_STATUSES = ['SUCCEEDED', 'ABORTED', 'FAILED'];
const TERMINAL_EVENTS = new Set(['SAGA_SUCCEEDED', 'SAGA_ABORTED', 'SAGA_FAILED']);
/** Transient POST failures (5xx, network) retried per order before it counts as an error. */
const MAX_TRANSIENT_RETRIES = 5;
/** Re-read window of the watcher's query: a saga stamped `updatedAt` before an earlier commit is still found. */
const OVERLAP_MS = 5000;
const POLL_MS = 1000;
/** Without a newly terminal saga for this long, the watcher reads the pending sagas directly. */
const QUIET_MS = 3000;

export interface Accepted {
  orderId: string;
  /** Epoch ms of the first POST attempt and of the 202. */
  firstAttemptAt: number;
  acceptedAt: number;
  attempts: number;
}

export interface Finished extends Accepted {
  terminalAt: number;
  latencyMs: number;
  /** The saga's status: SUCCEEDED, ABORTED or FAILED. */
  sagaStatus: string;
  /** Why an ABORTED saga compensated (OUT_OF_STOCK, STEP_TIMEOUT, …), else null. */
  reason: string | null;
}

export interface OpenLoopResult {
  offered: number;
  /** POST requests sent (first attempts and retries). */
  posts: number;
  accepted: number;
  /** 429 answers (an order refused three times before its 202 counts three). */
  refused429: number;
  /** POSTs after an order's first attempt (after a 429, a 5xx or a network error). */
  retries: number;
  /** Orders given up: still refused when their retry deadline came. */
  abandoned: number;
  /** Other failures: a 4xx other than 429, transient failures past the retries, sagas not terminal in time. */
  errors: string[];
  /** Largest Retry-After seen, s (null: no 429). */
  maxRetryAfterS: number | null;
  finished: Finished[];
  /** Accepted orders whose saga was not terminal when the driver stopped waiting. */
  notTerminal: number;
  /** Epoch ms: first POST attempt, last 202, last terminal. */
  firstPostAt: number;
  lastAcceptedAt: number;
  lastTerminalAt: number;
}

export type Arrivals = { clients: number } | { ratePerSec: number };

export interface OpenLoopOptions {
  apiUrl: string;
  /** The engine stack's Firestore (the watcher reads the saga documents). */
  db: Firestore;
  orders: readonly OrderRequest[];
  arrivals: Arrivals;
  /** An order still refused this long after its first attempt is abandoned. */
  giveUpMs: number;
  /** How long to wait for the sagas once posting is done. */
  drainTimeoutMs: number;
  label: string;
}

/** Retry-After: delay-seconds or an HTTP date; 1 s when missing or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1000;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : 1000;
}

interface PostCounters {
  posts: number;
  refused429: number;
  retries: number;
  abandoned: number;
  errors: string[];
  maxRetryAfterS: number | null;
}

/** Posts one order until it is accepted (202), refused for good, or abandoned. */
async function postOrder(
  apiUrl: string,
  order: OrderRequest,
  giveUpMs: number,
  c: PostCounters,
): Promise<Accepted | null> {
  const key = `bench-${randomUUID()}`;
  const firstAttemptAt = Date.now();
  const p0 = performance.now();
  let transient = 0;
  for (let attempt = 1; ; attempt += 1) {
    if (attempt > 1) c.retries += 1;
    c.posts += 1;
    let status: number;
    let text: string;
    let retryAfter: string | null = null;
    try {
      const res = await fetch(`${apiUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(order),
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      status = 0;
      text = err instanceof Error ? err.message : String(err);
    }
    if (status === 202) {
      const orderId = (JSON.parse(text) as { orderId?: unknown }).orderId;
      if (typeof orderId !== 'string') {
        c.errors.push(`POST /orders → 202 without an orderId: ${text.slice(0, 200)}`);
        return null;
      }
      return {
        orderId,
        firstAttemptAt,
        acceptedAt: firstAttemptAt + (performance.now() - p0),
        attempts: attempt,
      };
    }
    let waitMs: number;
    if (status === 429) {
      c.refused429 += 1;
      waitMs = retryAfterMs(retryAfter);
      c.maxRetryAfterS = Math.max(c.maxRetryAfterS ?? 0, waitMs / 1000);
      if (Date.now() + waitMs - firstAttemptAt > giveUpMs) {
        c.abandoned += 1;
        return null;
      }
    } else if (status === 0 || status >= 500) {
      transient += 1;
      if (transient > MAX_TRANSIENT_RETRIES) {
        c.errors.push(`POST /orders → ${status || 'network error'} ${text.slice(0, 200)} (after retries)`);
        return null;
      }
      waitMs = 1000;
    } else {
      c.errors.push(`POST /orders → ${status} ${text.slice(0, 200)}`);
      return null;
    }
    await sleep(waitMs);
  }
}

interface SagaFields {
  status?: unknown;
  failureReason?: unknown;
  updatedAt?: unknown;
  history?: { at: string; type: string }[];
}

/** Watches the accepted orders' sagas until they are terminal (see the file comment). */
export class SagaWatcher {
  private readonly pending = new Map<string, Accepted>();
  private readonly finished: Finished[] = [];
  private cursor: number;
  private lastNewAt = Date.now();

  constructor(
    private readonly db: Firestore,
    since: number,
  ) {
    this.cursor = since - OVERLAP_MS;
  }

  track(order: Accepted): void {
    this.pending.set(order.orderId, order);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get done(): readonly Finished[] {
    return this.finished;
  }

  private finish(id: string, d: SagaFields): boolean {
    const order = this.pending.get(id);
    const status = typeof d.status === 'string' ? d.status : '';
    if (!order || !TERMINAL_STATUSES.includes(status)) return false;
    const last = [...(d.history ?? [])].reverse().find((h) => TERMINAL_EVENTS.has(h.type));
    const at = last ? Date.parse(last.at) : NaN;
    const terminalAt = Number.isFinite(at) ? at : typeof d.updatedAt === 'number' ? d.updatedAt : Date.now();
    this.pending.delete(id);
    this.finished.push({
      ...order,
      terminalAt,
      latencyMs: terminalAt - order.firstAttemptAt,
      sagaStatus: status,
      reason: status === 'ABORTED' && typeof d.failureReason === 'string' ? d.failureReason : null,
    });
    return true;
  }

  /** One query: sagas that became terminal since the cursor (minus an overlap). */
  async poll(): Promise<void> {
    if (this.pending.size === 0) return;
    const snap = await this.db
      .collection(COLLECTIONS.sagas)
      .where('status', 'in', TERMINAL_STATUSES)
      .where('updatedAt', '>=', this.cursor)
      .select('status', 'failureReason', 'updatedAt', 'history')
      .get();
    let newest = this.cursor + OVERLAP_MS;
    let found = 0;
    for (const doc of snap.docs) {
      const d = doc.data() as SagaFields;
      if (typeof d.updatedAt === 'number') newest = Math.max(newest, d.updatedAt);
      if (this.finish(doc.id, d)) found += 1;
    }
    this.cursor = newest - OVERLAP_MS;
    if (found > 0) this.lastNewAt = Date.now();
    else if (Date.now() - this.lastNewAt > QUIET_MS) await this.readPending();
  }

  /** The safety net: reads every pending saga directly (batches of 300). */
  private async readPending(): Promise<void> {
    this.lastNewAt = Date.now();
    const ids = [...this.pending.keys()];
    for (let i = 0; i < ids.length; i += 300) {
      const refs = ids.slice(i, i + 300).map((id) => this.db.collection(COLLECTIONS.sagas).doc(id));
      const snaps = await this.db.getAll(...refs, {
        fieldMask: ['status', 'failureReason', 'updatedAt', 'history'],
      });
      for (const s of snaps) if (s.exists) this.finish(s.id, s.data() as SagaFields);
    }
  }
}

/** Posts every order open-loop and waits until every accepted saga is terminal (or the drain timeout). */
export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const counters: PostCounters = {
    posts: 0,
    refused429: 0,
    retries: 0,
    abandoned: 0,
    errors: [],
    maxRetryAfterS: null,
  };
  const firstPostAt = Date.now();
  const watcher = new SagaWatcher(opts.db, firstPostAt);
  const bar = new Progress(opts.label, opts.orders.length, 'sagas');
  let accepted = 0;
  let lastAcceptedAt = firstPostAt;
  const one = async (order: OrderRequest): Promise<void> => {
    const a = await postOrder(opts.apiUrl, order, opts.giveUpMs, counters);
    if (!a) return;
    accepted += 1;
    lastAcceptedAt = Math.max(lastAcceptedAt, a.acceptedAt);
    watcher.track(a);
  };

  let posting = true;
  const posted = (async () => {
    if ('clients' in opts.arrivals) {
      let next = 0;
      const client = async (): Promise<void> => {
        while (next < opts.orders.length) await one(opts.orders[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(opts.arrivals.clients, opts.orders.length) }, client));
    } else {
      const intervalMs = 1000 / opts.arrivals.ratePerSec;
      const t0 = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < opts.orders.length; i += 1) {
        const wait = t0 + i * intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
        inFlight.push(one(opts.orders[i]!));
      }
      await Promise.all(inFlight);
    }
  })().finally(() => {
    posting = false;
  });

  let drainDeadline = Infinity;
  for (;;) {
    await sleep(POLL_MS);
    try {
      await watcher.poll();
    } catch (err) {
      counters.errors.push(`saga watcher: ${err instanceof Error ? err.message : String(err)}`);
    }
    bar.update(watcher.done.length);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cleared by `posted`'s finally callback
    if (!posting) {
      if (drainDeadline === Infinity) drainDeadline = Date.now() + opts.drainTimeoutMs;
      if (watcher.pendingCount === 0 || Date.now() > drainDeadline) break;
    }
  }
  await posted;
  const finished = [...watcher.done];
  const notTerminal = watcher.pendingCount;
  if (notTerminal > 0) {
    counters.errors.push(
      `${notTerminal} accepted orders not terminal ${opts.drainTimeoutMs / 1000} s after posting`,
    );
  }
  const lastTerminalAt = finished.reduce((m, f) => Math.max(m, f.terminalAt), firstPostAt);
  bar.finish(
    `${accepted} accepted, ${counters.refused429} × 429, ${finished.length} terminal in ${((lastTerminalAt - firstPostAt) / 1000).toFixed(1)} s`,
  );
  return {
    offered: opts.orders.length,
    posts: counters.posts,
    accepted,
    refused429: counters.refused429,
    retries: counters.retries,
    abandoned: counters.abandoned,
    errors: counters.errors,
    maxRetryAfterS: counters.maxRetryAfterS,
    finished,
    notTerminal,
    firstPostAt,
    lastAcceptedAt,
    lastTerminalAt,
  };
}
