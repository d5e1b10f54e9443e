/**
 * Per-message work metrics: what one handled message (or one POST /orders) cost — Firestore documents written,
 * transactions (and their attempts), and the time spent in each phase of the consumer shape (transaction, publish,
 * mark sent). A handler opens a scope with `measure`; the Firestore and publish helpers add to the current scope,
 * and outside a scope they count nothing. The handler logs the result as one structured line ("message handled"),
 * which the benchmark sums per saga (writes per saga) and per function (where the time goes).
 *
 * Cheap on purpose: a few numbers per message in an AsyncLocalStorage scope.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { Firestore, Transaction } from '@google-cloud/firestore';

export interface WorkMetrics {
  /** Documents written: creates/sets/updates/deletes of committed transactions, plus single writes (mark sent). */
  writes: number;
  /** Committed (or failed) transactions. */
  transactions: number;
  /** Transaction attempts: more than `transactions` when Firestore aborted one (contention) and it was re-run. */
  txAttempts: number;
  txMs: number;
  publishMs: number;
  markSentMs: number;
}

const scope = new AsyncLocalStorage<WorkMetrics>();

export function emptyMetrics(): WorkMetrics {
  return { writes: 0, transactions: 0, txAttempts: 0, txMs: 0, publishMs: 0, markSentMs: 0 };
}

/** Runs `fn` in a fresh metrics scope; `metrics` is filled in as it runs (also when it throws). */
export function measure<T>(metrics: WorkMetrics, fn: () => Promise<T>): Promise<T> {
  return scope.run(metrics, fn);
}

/** Adds `ms` to a timing of the current scope. */
export function addTiming(phase: 'txMs' | 'publishMs' | 'markSentMs', ms: number): void {
  const m = scope.getStore();
  if (m) m[phase] += ms;
}

/** Counts single (non-transactional) document writes in the current scope. */
export function countWrites(n = 1): void {
  const m = scope.getStore();
  if (m) m.writes += n;
}

/** Times an async phase into the current scope. */
export async function timed<T>(phase: 'publishMs' | 'markSentMs', fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    addTiming(phase, performance.now() - t0);
  }
}

const WRITES = new Set<PropertyKey>(['create', 'set', 'update', 'delete']);

/** The transaction as the callback sees it: every write method call is counted. */
function countingTransaction(tx: Transaction, onWrite: () => void): Transaction {
  const proxy: Transaction = new Proxy(tx, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        if (WRITES.has(prop)) onWrite();
        const out = method.apply(target, args);
        return out === target ? proxy : out; // keep chained calls (tx.set(...).update(...)) counted
      };
    },
  });
  return proxy;
}

/**
 * `db.runTransaction(fn)`, counted in the current scope: one transaction, its attempts, the documents written by
 * the attempt that committed, and the time. Without a scope it is exactly `db.runTransaction(fn)`.
 */
export async function runTransaction<T>(db: Firestore, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const m = scope.getStore();
  if (!m) return db.runTransaction(fn);
  let writes = 0;
  const t0 = performance.now();
  try {
    const result = await db.runTransaction((tx) => {
      writes = 0; // only the last attempt commits
      m.txAttempts += 1;
      return fn(countingTransaction(tx, () => (writes += 1)));
    });
    m.writes += writes;
    return result;
  } finally {
    m.transactions += 1;
    m.txMs += performance.now() - t0;
  }
}

/** The metrics as log fields (timings rounded to 0.1 ms). */
export function metricsFields(m: WorkMetrics): Record<string, number> {
  const r = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    writes: m.writes,
    transactions: m.transactions,
    txAttempts: m.txAttempts,
    txMs: r(m.txMs),
    publishMs: r(m.publishMs),
    markSentMs: r(m.markSentMs),
  };
}
