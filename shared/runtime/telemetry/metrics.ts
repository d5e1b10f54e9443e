/**
 * OpenTelemetry metrics of the saga runtime: what operators alert on (README, "Metrics and alerting").
 *
 * The instruments are recorded where the facts are decided, after they are committed: a saga started (the api's
 * transaction), an engine decision applied (the orchestrator, from the decision the pure engine returned — the
 * engine itself records nothing), a dead letter recorded, a saga refused by admission control, a sweep pass, a push
 * delivery's queue time. Every hook is one call on `sagaMetrics()`.
 *
 * Without an SDK installed (`SAGA_METRICS=off`, unit tests, the CLI) the meter is OpenTelemetry's no-op meter:
 * recording costs a function call. The SDK and its exporters are set up in `metrics-sdk.ts`.
 *
 * Attribute keys are snake_case (valid Cloud Monitoring label keys and Prometheus label names as they are).
 */
import { metrics as otelMetrics, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { outstandingOf } from '../engine/engine';
import {
  TERMINAL_STATUSES,
  type Decision,
  type SagaEvent,
  type SagaState,
  type StepAction,
} from '../engine/types';

export const METER_NAME = 'gcp-saga';

/** Metric names (in Cloud Monitoring: `workload.googleapis.com/<name>`). */
export const METRICS = {
  started: 'saga.started',
  finished: 'saga.finished',
  stepDuration: 'saga.step.duration',
  compensations: 'saga.compensations',
  queueDuration: 'saga.queue.duration',
  deadLetters: 'saga.dead_letters',
  admissionRefusals: 'saga.admission.refusals',
  sweeperLag: 'saga.sweeper.lag',
} as const;

/** Milliseconds, from a push's few ms to the schedule-to-start bound (10 min). */
export const MS_BUCKETS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000,
];

export type FinishedOutcome = 'SUCCEEDED' | 'ABORTED' | 'FAILED';
/** How a command ended: its participant's reply outcome, or TIMED_OUT (deadline or dead letter). */
export type StepOutcome = 'SUCCEEDED' | 'FAILED' | 'REFUSED' | 'TIMED_OUT';

/** What one applied engine decision tells the metrics (pure: from the state before, the event and the decision). */
export interface DecisionObservations {
  /** The saga reached a terminal status with this decision. */
  finished: FinishedOutcome | null;
  /** The command the event answered: how long it was outstanding, and how it ended. */
  step: { step: string; action: StepAction; outcome: StepOutcome; ms: number } | null;
  /** Compensation commands the decision issues (re-issues included), by step. */
  compensations: string[];
}

/**
 * Pure. `before` is the saga the engine decided on, `decision` what it returned, `now` the time it decided with.
 * A decision that changed nothing, or was deferred (a postponed timeout), observes nothing.
 */
export function observeDecision(
  before: SagaState,
  event: SagaEvent,
  decision: Decision,
  now: number,
): DecisionObservations {
  const none: DecisionObservations = { finished: null, step: null, compensations: [] };
  if (!decision.changed || decision.deferred) return none;
  const after = decision.state;
  const finished =
    after.status !== before.status && TERMINAL_STATUSES.includes(after.status)
      ? (after.status as FinishedOutcome)
      : null;
  const same = (o: { step: string; action: StepAction; attempt: number }): boolean =>
    o.step === event.step && o.action === event.action && o.attempt === event.attempt;
  const answered = outstandingOf(before).find(same);
  const stillOutstanding = outstandingOf(after).some(same);
  const step =
    answered?.issuedAt !== undefined && !stillOutstanding
      ? {
          step: answered.step,
          action: answered.action,
          outcome: event.kind === 'reply' ? event.outcome : ('TIMED_OUT' as const),
          ms: Math.max(0, now - answered.issuedAt),
        }
      : null;
  return {
    finished,
    step,
    compensations: decision.commands.filter((c) => c.action === 'compensate').map((c) => c.step),
  };
}

/** The instruments, on one meter. */
export class SagaMetrics {
  private readonly started: Counter;
  private readonly finished: Counter;
  private readonly stepDuration: Histogram;
  private readonly compensations: Counter;
  private readonly queueDuration: Histogram;
  private readonly deadLetters: Counter;
  private readonly admissionRefusals: Counter;
  private readonly sweeperLag: Histogram;

  /** `service`: the function this process serves (the `function` label of queue time). */
  constructor(
    meter: Meter,
    private readonly service = 'unknown',
  ) {
    const ms = { unit: 'ms', advice: { explicitBucketBoundaries: MS_BUCKETS } };
    this.started = meter.createCounter(METRICS.started, {
      description: 'Sagas started (committed by the api), by saga_type and saga_version',
      unit: '{saga}',
    });
    this.finished = meter.createCounter(METRICS.finished, {
      description:
        'Sagas that reached a terminal status, by saga_type, saga_version and outcome (SUCCEEDED, ABORTED, FAILED); a FAILED saga that resumes is counted again when it ends',
      unit: '{saga}',
    });
    this.stepDuration = meter.createHistogram(METRICS.stepDuration, {
      description:
        'Command issued → its reply (or timeout) applied to the saga, by saga_type, saga_version, step, action and outcome (SUCCEEDED, FAILED, REFUSED, TIMED_OUT)',
      ...ms,
    });
    this.compensations = meter.createCounter(METRICS.compensations, {
      description: 'Compensation commands issued (re-issues included), by saga_type, saga_version and step',
      unit: '{command}',
    });
    this.queueDuration = meter.createHistogram(METRICS.queueDuration, {
      description: 'Pub/Sub publish time → push handler start, by function and topic',
      ...ms,
    });
    this.deadLetters = meter.createCounter(METRICS.deadLetters, {
      description: 'Dead letters recorded (once per message), by topic (the source topic) and reason',
      unit: '{message}',
    });
    this.admissionRefusals = meter.createCounter(METRICS.admissionRefusals, {
      description: 'New sagas refused with 429 RESOURCE_EXHAUSTED by admission control, by saga_type',
      unit: '{request}',
    });
    this.sweeperLag = meter.createHistogram(METRICS.sweeperLag, {
      description:
        'Per sweep pass: now − the oldest overdue deadline the pass handled (0 when nothing was overdue)',
      ...ms,
    });
  }

  sagaStarted(sagaType: string, version: number): void {
    this.started.add(1, { saga_type: sagaType, saga_version: String(version) });
  }

  /** After an engine decision was committed (not for duplicates). */
  decisionApplied(sagaType: string, version: number, o: DecisionObservations): void {
    const saga = { saga_type: sagaType, saga_version: String(version) };
    if (o.finished) this.finished.add(1, { ...saga, outcome: o.finished });
    if (o.step) {
      const { step, action, outcome, ms } = o.step;
      this.stepDuration.record(ms, { ...saga, step, action, outcome });
    }
    for (const step of o.compensations) this.compensations.add(1, { ...saga, step });
  }

  queueTime(topic: string, ms: number): void {
    if (Number.isFinite(ms)) this.queueDuration.record(Math.max(0, ms), { function: this.service, topic });
  }

  deadLetterRecorded(topic: string, reason: string): void {
    this.deadLetters.add(1, { topic, reason });
  }

  admissionRefused(sagaType: string): void {
    this.admissionRefusals.add(1, { saga_type: sagaType });
  }

  sweepPass(lagMs: number): void {
    this.sweeperLag.record(Math.max(0, lagMs));
  }
}

let current: SagaMetrics | undefined;

/** The process's instruments: on the global meter provider (no-op until an SDK is installed). */
export function sagaMetrics(): SagaMetrics {
  current ??= new SagaMetrics(otelMetrics.getMeter(METER_NAME));
  return current;
}

/** Records on `meter` from now on (the SDK once installed; tests with an in-memory reader). */
export function useMeter(meter: Meter, service?: string): void {
  current = new SagaMetrics(meter, service);
}

/** Back to the global meter provider (tests). */
export function resetSagaMetrics(): void {
  current = undefined;
}
