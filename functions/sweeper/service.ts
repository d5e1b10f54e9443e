/**
 * The sweeper: (1) republishes outbox records still unsent after the grace period (a crash between commit and
 * publish never stalls a saga); (2) times out sagas whose awaited reply is overdue. Both queries are indexed range
 * queries over only what is due, in bounded batches; running two sweepers at once is harmless (publishing is
 * idempotent for consumers, and a timeout is an inbox-deduplicated event).
 */
import { deliver } from '../../shared/consumer';
import type { Context } from '../context';

export interface SweepReport {
  republished: number;
  timedOut: number;
  errors: number;
}

const PARALLEL = 8;

export async function sweep(ctx: Context): Promise<SweepReport> {
  const now = ctx.now();
  const report: SweepReport = { republished: 0, timedOut: 0, errors: 0 };
  const [pending, overdue] = await Promise.all([
    ctx.store.pendingSince(now - ctx.config.outboxGraceMs, ctx.config.sweepBatch),
    ctx.sagas.overdue(now, ctx.config.sweepBatch),
  ]);
  await inParallel(
    pending,
    async (record) => {
      await deliver(ctx, record);
      report.republished += 1;
    },
    report,
  );
  await inParallel(
    overdue,
    async (saga) => {
      if (!saga.awaiting) return;
      const r = await ctx.orchestrator.onTimeout(saga.sagaId, saga.awaiting);
      if (!r.duplicate) report.timedOut += 1;
    },
    report,
  );
  if (report.republished + report.timedOut + report.errors > 0) ctx.log.info('sweep', { ...report });
  return report;
}

async function inParallel<T>(
  items: readonly T[],
  fn: (item: T) => Promise<void>,
  report: SweepReport,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch {
        report.errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
