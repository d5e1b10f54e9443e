/**
 * The sweeper: (1) republishes outbox records still unsent after the grace period (a crash between commit and
 * publish never stalls a saga); (2) settles every overdue outstanding command of the sagas with one.
 *
 * One invocation (a tick) runs passes for SAGA_SWEEP_BUDGET_MS, one every SAGA_SWEEP_INTERVAL_MS (Cloud Scheduler
 * ticks at most once a minute; locally the harness ticks every interval and the budget is 0: one pass). A pass
 * drains everything due, page after page (indexed range queries over only what is due, oldest first, each page
 * after the last item of the previous one), so an item that keeps failing is passed over instead of blocking the
 * items behind it. Running two sweepers at once is harmless: publishing is idempotent for consumers, a timeout is an
 * inbox-deduplicated event, and a postponed deadline is a transaction on the saga.
 *
 * An overdue command is not timed out blindly — queueing is not failure (ARCHITECTURE.md). Its participant's inbox
 * says where it is (read in the timeout's own transaction): processed (the reply it recorded is applied now, however
 * long the reply queue), taken (the step's clock runs from the claim), or neither — then it is queued if the
 * participant answered anything within the step timeout (the deadline is postponed, within
 * SAGA_SCHEDULE_TO_START_MS), else lost (timed out).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { deliver } from './consumer';
import { commandRef, overdueOf } from './engine/engine';
import type { CommandRef } from './engine/types';
import { definitionVersionOf } from './registry';
import type { InboxRecord } from './store/inbox';
import type { SagaDoc } from './store/sagas';
import type { RuntimeContext as Context } from './context';
import { extractContext, inSpan, linkToActive, TRACEPARENT } from './telemetry/tracing';
import { sagaMetrics } from './telemetry/metrics';

export interface SweepReport {
  passes: number;
  republished: number;
  /** Steps timed out (overdue and not queued, or queued longer than the schedule-to-start bound). */
  timedOut: number;
  /** Overdue commands still queued behind other work (or taken and within their step timeout): deadline moved. */
  postponed: number;
  /** Overdue steps whose participant had answered: its recorded reply applied (the reply was still queued). */
  recovered: number;
  /** Overdue sagas of a definition version this code does not know: left alone for code that knows it. */
  held: number;
  errors: number;
}

const PARALLEL = 8;
/** Hard cap on one pass when there is no tick budget (locally): the next tick starts another anyway. */
const MAX_PASS_MS = 60_000;

export async function sweep(ctx: Context, budgetMs = ctx.config.sweepBudgetMs): Promise<SweepReport> {
  const report: SweepReport = {
    passes: 0,
    republished: 0,
    timedOut: 0,
    postponed: 0,
    recovered: 0,
    held: 0,
    errors: 0,
  };
  const startedAt = Date.now();
  const endAt = startedAt + (budgetMs > 0 ? budgetMs : MAX_PASS_MS);
  for (;;) {
    await sweepPass(ctx, report, endAt);
    report.passes += 1;
    if (budgetMs <= 0 || Date.now() + ctx.config.sweepIntervalMs >= endAt) break;
    await sleep(ctx.config.sweepIntervalMs);
  }
  const worked = report.republished + report.timedOut + report.postponed + report.recovered;
  if (worked + report.errors > 0) ctx.log.info('sweep', { ...report, ms: Date.now() - startedAt });
  return report;
}

/** One pass: every page of what is due now, until nothing is left or the time is up. */
async function sweepPass(ctx: Context, report: SweepReport, endAt: number): Promise<void> {
  const now = ctx.now();
  const batch = ctx.config.sweepBatch;
  const lag: Lag = { oldestDeadline: null };
  await Promise.all([
    pages<InboxRecord>(
      (after) => ctx.store.pendingSince(now - ctx.config.outboxGraceMs, batch, after),
      batch,
      endAt,
      (page) =>
        inParallel(page, report, async (record) => {
          // In the trace its messages carry (the saga's), linked to this tick's.
          await inSpan(
            'sweeper republish outbox',
            {
              parent: extractContext(record.outgoing[0]?.attributes ?? {}),
              links: linkToActive(),
              attributes: { 'saga.inbox_record': record.key },
            },
            () => deliver(ctx, record),
          );
          report.republished += 1;
        }),
    ),
    pages<SagaDoc>(
      (after) => ctx.sagas.overdue(now, batch, after),
      batch,
      endAt,
      (page) => settleOverdue(ctx, page, report, lag),
    ),
  ]);
  // Sweeper lag: how late the oldest overdue command this pass settled was (0 when nothing was overdue).
  sagaMetrics().sweepPass(lag.oldestDeadline === null ? 0 : now - lag.oldestDeadline);
}

/** The earliest deadline among the overdue commands a pass settles (held and unknown ones are not settled). */
interface Lag {
  oldestDeadline: number | null;
}

async function pages<T>(
  fetch: (after: T | undefined) => Promise<T[]>,
  batch: number,
  endAt: number,
  handle: (page: T[]) => Promise<void>,
): Promise<void> {
  let after: T | undefined;
  for (;;) {
    const page = await fetch(after);
    if (page.length > 0) await handle(page);
    if (page.length < batch || Date.now() >= endAt) return;
    after = page[page.length - 1];
  }
}

/**
 * Settles one page of overdue sagas: every overdue outstanding command of each (the members of a stage run in
 * parallel, each with its own deadline and participant). Whether each command was answered or taken is read inside
 * its timeout transaction (current facts); whether its participant is answering other work is one query per
 * participant and page, just before. The commands of one saga are settled one after the other (no contention on
 * its document); sagas in parallel.
 */
async function settleOverdue(ctx: Context, page: SagaDoc[], report: SweepReport, lag: Lag): Promise<void> {
  const now = ctx.now();
  const work: { saga: SagaDoc; due: { cmd: CommandRef; participant: string }[] }[] = [];
  const participants = new Set<string>();
  for (const saga of page) {
    if (ctx.registry.isUnknownVersion(saga)) {
      report.held += 1; // started by code that knows its version: held (paged past), never timed out here
      continue;
    }
    const due: { cmd: CommandRef; participant: string }[] = [];
    const overdue = overdueOf(saga, now);
    if (overdue.length === 0) {
      report.errors += 1; // a deadline without an outstanding command: a document this code did not write
      ctx.log.warn('overdue saga awaits no command', { sagaId: saga.sagaId, type: saga.type });
    }
    for (const cmd of overdue) {
      const participant = ctx.registry.participantOf(saga.type, cmd.step, definitionVersionOf(saga))?.name;
      if (!participant) {
        report.errors += 1; // unknown saga type or step: nothing this code can do; paged past, never blocking
        ctx.log.warn('overdue command has no known participant', {
          sagaId: saga.sagaId,
          type: saga.type,
          step: cmd.step,
        });
        continue;
      }
      participants.add(participant);
      due.push({ cmd: commandRef(cmd), participant });
      lag.oldestDeadline = Math.min(lag.oldestDeadline ?? cmd.deadlineAt, cmd.deadlineAt);
    }
    if (due.length > 0) work.push({ saga, due });
  }
  const answering = new Map<string, boolean>();
  await Promise.all(
    [...participants].map(async (participant) => {
      try {
        answering.set(
          participant,
          await ctx.store.processedSince(participant, ctx.now() - ctx.config.stepTimeoutMs),
        );
      } catch (err) {
        ctx.log.warn('could not tell whether a participant is answering; the next pass retries', {
          participant,
          error: err,
        });
      }
    }),
  );
  await inParallel(work, report, async ({ saga, due }) => {
    for (const { cmd, participant } of due) {
      const queued = answering.get(participant);
      if (queued === undefined) {
        report.errors += 1;
        continue;
      }
      try {
        // In the saga's trace (its root span, kept on the document), linked to this tick's.
        await inSpan(
          `sweeper settle ${cmd.step} ${cmd.action}`,
          {
            ...(saga.trace !== undefined ? { parent: extractContext({ [TRACEPARENT]: saga.trace }) } : {}),
            links: linkToActive(),
            attributes: { 'saga.id': saga.sagaId, 'saga.step': cmd.step, 'saga.attempt': cmd.attempt },
          },
          () => settleCommand(ctx, saga.sagaId, cmd, participant, queued, report),
        );
      } catch {
        report.errors += 1;
      }
    }
  });
}

async function settleCommand(
  ctx: Context,
  sagaId: string,
  cmd: CommandRef,
  participant: string,
  queued: boolean,
  report: SweepReport,
): Promise<void> {
  const r = await ctx.orchestrator.onTimeout(sagaId, cmd, { cause: 'deadline', queued, participant });
  if (r.answered) {
    // The participant answered; its reply is still queued on saga-replies: apply it now.
    const applied = await ctx.orchestrator.onReply(r.answered);
    if (!applied.duplicate) report.recovered += 1;
  } else if (r.postponed) report.postponed += 1;
  else if (!r.duplicate) report.timedOut += 1;
}

async function inParallel<T>(
  items: readonly T[],
  report: SweepReport,
  fn: (item: T) => Promise<void>,
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
