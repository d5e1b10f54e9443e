/**
 * The load driver: a closed loop of `concurrency` workers, each placing an order through the HTTP API and polling
 * it until it is terminal, then placing the next. Latency is measured from the client's POST to the saga's own
 * terminal timestamp (the last history entry, written by the orchestrator on the same machine's clock), so the
 * polling interval does not blur it. Polling starts at ~80% of the median latency so far and then repeats every
 * tenth of it (at least 50 ms): a few GETs per order, so the driver's own load on the api and Firestore stays small.
 */
import { performance } from 'node:perf_hooks';

export interface OrderRequest {
  customerId: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
  paymentToken: string;
}

/** Where a saga is started and read: `POST <path>` answers `{ [idField]: id }`, `GET <path>/{id}` its view. */
export interface SagaRoute {
  path: string;
  idField: string;
}

export const ORDERS_ROUTE: SagaRoute = { path: '/orders', idField: 'orderId' };

export interface OrderResult {
  orderId: string;
  /** Epoch ms: POST sent, POST answered, saga terminal (server time). */
  startedAt: number;
  acceptedAt: number;
  terminalAt: number;
  latencyMs: number;
  /** The saga's own duration: its first history entry → its terminal one (the orchestrator's clock; no api time). */
  sagaMs: number;
  status: string;
  sagaStatus: string;
  rejectionReason: string | null;
  polls: number;
}

export interface LoadResult {
  orders: OrderResult[];
  /** Orders whose POST failed or that never became terminal. */
  errors: string[];
  startedAt: number;
  finishedAt: number;
  /** From the first POST to the last terminal state. */
  spanMs: number;
  /** Orders per second over spanMs. */
  perSec: number;
}

interface OrderView {
  status: string;
  rejectionReason?: string | null;
  saga: { status: string; history: { at: string; type: string }[] };
}

const TERMINAL_EVENTS = new Set(['SAGA_SUCCEEDED', 'SAGA_ABORTED', 'SAGA_FAILED']);
const MIN_POLL_MS = 50;

async function call(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
}

function isTerminal(v: OrderView): boolean {
  return v.status !== 'PENDING' || v.saga.status === 'FAILED';
}

/** The saga's terminal time: its last terminal history entry (the orchestrator's clock), else now. */
function terminalTime(v: OrderView): number {
  const last = [...v.saga.history].reverse().find((h) => TERMINAL_EVENTS.has(h.type));
  const at = last ? Date.parse(last.at) : NaN;
  return Number.isFinite(at) ? at : Date.now();
}

export interface LoadOptions {
  apiUrl: string;
  /** Request bodies (orders by default; any saga's with `route`). */
  orders: readonly object[];
  /** Default: ORDERS_ROUTE. */
  route?: SagaRoute;
  concurrency: number;
  /** Per-order limit before it counts as an error. */
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const route = opts.route ?? ORDERS_ROUTE;
  const results: OrderResult[] = [];
  const errors: string[] = [];
  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  const startedAt = Date.now();

  const medianSoFar = (): number => {
    if (latencies.length === 0) return 300;
    const sorted = [...latencies.slice(-50)].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };

  const one = async (order: object): Promise<void> => {
    const t0 = Date.now();
    const p0 = performance.now();
    const placed = await call(`${opts.apiUrl}${route.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    const acceptedAt = t0 + (performance.now() - p0);
    const orderId = (placed.body as Record<string, unknown> | null)?.[route.idField];
    if (placed.status !== 202 || typeof orderId !== 'string') {
      errors.push(`POST ${route.path} → ${placed.status} ${JSON.stringify(placed.body)}`);
      return;
    }
    const median = medianSoFar();
    let wait = Math.max(0, median * 0.8 - (acceptedAt - t0));
    let polls = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.max(MIN_POLL_MS, median / 10);
      polls += 1;
      const got = await call(`${opts.apiUrl}${route.path}/${orderId}`);
      const view = got.body as OrderView;
      if (got.status === 200 && isTerminal(view)) {
        const terminalAt = terminalTime(view);
        const firstAt = Date.parse(view.saga.history[0]?.at ?? '');
        latencies.push(terminalAt - t0);
        results.push({
          orderId,
          startedAt: t0,
          acceptedAt,
          terminalAt,
          latencyMs: terminalAt - t0,
          sagaMs: Number.isFinite(firstAt) ? terminalAt - firstAt : NaN,
          status: view.status,
          sagaStatus: view.saga.status,
          rejectionReason: view.rejectionReason ?? null,
          polls,
        });
        return;
      }
      if (Date.now() - t0 > timeoutMs) {
        errors.push(`order ${orderId} not terminal after ${timeoutMs} ms (${got.status})`);
        return;
      }
    }
  };

  const worker = async (): Promise<void> => {
    while (next < opts.orders.length) {
      const order = opts.orders[next++]!;
      try {
        await one(order);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
      done += 1;
      opts.onProgress?.(done, opts.orders.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.orders.length) }, worker));

  const finishedAt = results.reduce((max, r) => Math.max(max, r.terminalAt), startedAt);
  const first = results.reduce((min, r) => Math.min(min, r.startedAt), finishedAt);
  const spanMs = Math.max(1, finishedAt - first);
  return {
    orders: results,
    errors,
    startedAt: first,
    finishedAt,
    spanMs,
    perSec: (results.length * 1000) / spanMs,
  };
}
