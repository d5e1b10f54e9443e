/**
 * The naive baseline for a hot document: `concurrency` clients running plain read-modify-write transactions
 * (get, update n+1) on ONE document, as fast as they can, for a fixed time. On the Firestore emulator (pessimistic
 * locks) most of that time is spent waiting for the lock and aborting; the rate of commits is what a design that
 * lets every order update the product document directly would get.
 */
import type { Firestore } from '@google-cloud/firestore';

export interface NaiveResult {
  concurrency: number;
  /** The measuring window; transactions in flight at its end are let finish (drain) but not counted in the rate. */
  seconds: number;
  /** Commits in the window and the drain. */
  committed: number;
  /** Commits in the window: the rate's numerator. */
  inWindow: number;
  /** Transactions that still failed after the client's retries (ABORTED lock timeouts), window and drain. */
  failed: number;
  txPerSec: number;
  /** The counter's final value equals `committed` (nothing lost, nothing doubled). */
  consistent: boolean;
}

export async function naiveHotDocument(
  db: Firestore,
  concurrency: number,
  seconds: number,
  onProgress?: (elapsedMs: number) => void,
): Promise<NaiveResult> {
  const ref = db.collection('bench-naive').doc('counter');
  await ref.set({ n: 0 });
  let committed = 0;
  let failed = 0;
  /** Commits that completed within the window (the rate); those of the drain after it are not counted. */
  let inWindow = 0;
  const t0 = Date.now();
  const deadline = t0 + seconds * 1000;
  const ticker = setInterval(() => onProgress?.(Date.now() - t0), 250);
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      try {
        await db.runTransaction(async (tx) => {
          const snap = await tx.get(ref);
          tx.update(ref, { n: Number(snap.get('n')) + 1 });
        });
        committed += 1;
        if (Date.now() <= deadline) inWindow += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(ticker);
  const final = Number((await ref.get()).get('n'));
  return {
    concurrency,
    seconds,
    committed,
    inWindow,
    failed,
    txPerSec: inWindow / seconds,
    consistent: final === committed,
  };
}
