/**
 * Per-message work metrics: what one handled message (or one POST /orders) cost — Firestore documents read and
 * written, transactions (and their attempts), and the time spent in each phase of the consumer shape (transaction, publish,
 * mark sent). A handler opens a scope with `measure`; the Firestore and publish helpers add to the current scope,
 * and outside a scope they count nothing. The handler logs the result as one structured line ("message handled"),
 * which the benchmark sums per saga (writes per saga) and per function (where the time goes).
 *
 * Cheap on purpose: a few numbers per message in an AsyncLocalStorage scope.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { Firestore, Transaction } from '@google-cloud/firestore';
import { inSpan, SpanKind } from './telemetry/tracing';

export interface WorkMetrics {
  /**
   * Document reads as Firestore bills them (see `readsOf`): every read of every transaction attempt (an aborted
   * attempt's reads are billed too), plus non-transactional reads counted with `countReads`.
   */
  reads: number;
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
  return { reads: 0, writes: 0, transactions: 0, txAttempts: 0, txMs: 0, publishMs: 0, markSentMs: 0 };
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

/**
 * Counts non-transactional document reads in the current scope (a `get()` outside a transaction, a query, an
 * aggregation): pass what `readsOf` gives for its result, or the number of documents it returned.
 */
export function countReads(n = 1): void {
  const m = scope.getStore();
  if (m) m.reads += n;
}

/**
 * Billed reads of one read's result, kept simple:
 * - a document snapshot (`get(docRef)`): 1, whether or not the document exists;
 * - an array of snapshots (`getAll(ref1, …, refN)`): N;
 * - a query snapshot (`get(query)`): the documents returned, at least 1 (Firestore bills a query that matches
 *   nothing one read);
 * - an aggregation snapshot (`get(query.count())`): 1 per batch of up to 1000 index entries counted, at least 1
 *   (for `sum`/`average`, whose entry count the result does not carry: 1).
 * Index-entry reads of queries with several range/inequality filters are not counted (the engine has none).
 */
export function readsOf(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  if (typeof result !== 'object' || result === null) return 0;
  if ('exists' in result) return 1;
  if ('docs' in result && Array.isArray(result.docs)) return Math.max(1, result.docs.length);
  if ('data' in result && typeof result.data === 'function') {
    const data: unknown = (result.data as () => unknown).call(result);
    const count =
      typeof data === 'object' && data !== null && 'count' in data && typeof data.count === 'number'
        ? data.count
        : 0;
    return Math.max(1, Math.ceil(count / 1000));
  }
  return 0;
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
const READS = new Set<PropertyKey>(['get', 'getAll']);

/**
 * The transaction as the callback sees it: every write method call is counted, and every read by what it returned
 * (`readsOf`). Exported for its unit test.
 */
export function countingTransaction(
  tx: Transaction,
  onWrite: () => void,
  onRead: (n: number) => void = () => undefined,
): Transaction {
  const proxy: Transaction = new Proxy(tx, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        if (WRITES.has(prop)) onWrite();
        const out = method.apply(target, args);
        if (READS.has(prop) && out instanceof Promise) {
          return out.then((result: unknown) => {
            onRead(readsOf(result));
            return result;
          });
        }
        return out === target ? proxy : out; // keep chained calls (tx.set(...).update(...)) counted
      };
    },
  });
  return proxy;
}

/**
 * `db.runTransaction(fn)`, counted in the current scope: one transaction, its attempts, the documents read by every
 * attempt, the documents written by the attempt that committed, and the time. Without a scope it is exactly `db.runTransaction(fn)`.
 * Traced as one `firestore.transaction` span (its attempts, reads and writes as attributes; a no-op without tracing).
 */
export function runTransaction<T>(db: Firestore, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return inSpan(
    'firestore.transaction',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'firestore' } },
    (span) => {
      const before = scope.getStore();
      const at = before ? { attempts: before.txAttempts, reads: before.reads, writes: before.writes } : null;
      return countedTransaction(db, fn).finally(() => {
        const m = scope.getStore();
        if (m && at && span.isRecording()) {
          span.setAttributes({
            'saga.tx.attempts': m.txAttempts - at.attempts,
            'saga.tx.reads': m.reads - at.reads,
            'saga.tx.writes': m.writes - at.writes,
          });
        }
      });
    },
  );
}

async function countedTransaction<T>(db: Firestore, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const m = scope.getStore();
  if (!m) return db.runTransaction(fn);
  let writes = 0;
  const t0 = performance.now();
  try {
    const result = await db.runTransaction((tx) => {
      writes = 0; // only the last attempt commits
      m.txAttempts += 1;
      return fn(
        countingTransaction(
          tx,
          () => (writes += 1),
          (n) => (m.reads += n),
        ),
      );
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
    reads: m.reads,
    writes: m.writes,
    transactions: m.transactions,
    txAttempts: m.txAttempts,
    txMs: r(m.txMs),
    publishMs: r(m.publishMs),
    markSentMs: r(m.markSentMs),
  };
}
