/**
 * The per-message work metrics (shared/runtime/metrics.ts): document reads and writes counted through the transaction
 * proxy, attempts, and non-transactional reads. Pure: a fake Transaction and a fake Firestore stand in for the SDK.
 */
import type { Firestore, Transaction } from '@google-cloud/firestore';
import {
  countReads,
  countWrites,
  emptyMetrics,
  measure,
  metricsFields,
  readsOf,
  runTransaction,
} from '../../shared/runtime/metrics';

const ref = (id: string) => ({ id, path: `things/${id}` });
const docSnap = (exists: boolean) => ({ exists, data: () => (exists ? { n: 1 } : undefined) });
const querySnap = (n: number) => ({ size: n, docs: Array.from({ length: n }, () => docSnap(true)) });
const countSnap = (count: number) => ({ readTime: 0, data: () => ({ count }) });

/** A fake transaction: `get` answers a snapshot by what it was given, writes return the transaction. */
function fakeTransaction(): Transaction {
  const tx = {
    get: (what: { kind?: string; n?: number }) =>
      Promise.resolve(
        what.kind === 'query'
          ? querySnap(what.n ?? 0)
          : what.kind === 'count'
            ? countSnap(what.n ?? 0)
            : docSnap(what.kind !== 'missing'),
      ),
    getAll: (...refs: unknown[]) => Promise.resolve(refs.map(() => docSnap(true))),
    create: () => tx,
    set: () => tx,
    update: () => tx,
    delete: () => tx,
  };
  return tx as unknown as Transaction;
}

/** A fake Firestore whose runTransaction runs the callback `attempts` times (the earlier ones as if aborted). */
function fakeDb(attempts = 1): Firestore {
  return {
    runTransaction: async <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> => {
      let result: T | undefined;
      for (let i = 0; i < attempts; i += 1) result = await fn(fakeTransaction());
      return result as T;
    },
  } as unknown as Firestore;
}

describe('readsOf: billed reads of a read result', () => {
  it('a document snapshot is one read, existing or not', () => {
    expect(readsOf(docSnap(true))).toBe(1);
    expect(readsOf(docSnap(false))).toBe(1);
  });

  it('getAll of n references is n reads', () => {
    expect(readsOf([docSnap(true), docSnap(false), docSnap(true)])).toBe(3);
    expect(readsOf([])).toBe(0);
  });

  it('a query is one read per document returned, at least one', () => {
    expect(readsOf(querySnap(7))).toBe(7);
    expect(readsOf(querySnap(0))).toBe(1);
  });

  it('an aggregation is one read per up to 1000 index entries, at least one', () => {
    expect(readsOf(countSnap(0))).toBe(1);
    expect(readsOf(countSnap(1000))).toBe(1);
    expect(readsOf(countSnap(1001))).toBe(2);
    expect(readsOf(countSnap(25_000))).toBe(25);
  });
});

describe('runTransaction counts reads and writes in the current scope', () => {
  it('tx.get of a doc = 1, tx.getAll(n refs) = n, tx.get(query) = documents returned; every write', async () => {
    const m = emptyMetrics();
    await measure(m, () =>
      runTransaction(fakeDb(), async (tx) => {
        await tx.get(ref('a') as never);
        await tx.get({ kind: 'missing' } as never);
        await tx.getAll(ref('b') as never, ref('c') as never, ref('d') as never);
        await tx.get({ kind: 'query', n: 5 } as never);
        await tx.get({ kind: 'count', n: 2500 } as never);
        tx.create(ref('e') as never, {}).set(ref('f') as never, {});
        tx.update(ref('a') as never, {});
      }),
    );
    expect(m).toMatchObject({ reads: 1 + 1 + 3 + 5 + 3, writes: 3, transactions: 1, txAttempts: 1 });
  });

  it('reads of every attempt count (Firestore bills them); writes only of the attempt that committed', async () => {
    const m = emptyMetrics();
    await measure(m, () =>
      runTransaction(fakeDb(3), async (tx) => {
        await tx.getAll(ref('a') as never, ref('b') as never);
        tx.set(ref('a') as never, {});
      }),
    );
    expect(m).toMatchObject({ reads: 6, writes: 1, transactions: 1, txAttempts: 3 });
  });

  it('the callback still gets what the reads returned', async () => {
    const got = await measure(emptyMetrics(), () =>
      runTransaction(fakeDb(), async (tx) => {
        const [a, b] = await tx.getAll(ref('a') as never, ref('b') as never);
        return [a?.exists, b?.exists];
      }),
    );
    expect(got).toEqual([true, true]);
  });
});

describe('countReads / countWrites', () => {
  it('add to the current scope and count nothing outside one', async () => {
    countReads(100);
    countWrites(100);
    const m = emptyMetrics();
    await measure(m, () => {
      countReads();
      countReads(4);
      countWrites();
      return Promise.resolve();
    });
    expect(m).toMatchObject({ reads: 5, writes: 1 });
  });

  it('metricsFields puts reads on the log line', () => {
    const m = { ...emptyMetrics(), reads: 12, writes: 24 };
    expect(metricsFields(m)).toMatchObject({ reads: 12, writes: 24 });
  });
});
