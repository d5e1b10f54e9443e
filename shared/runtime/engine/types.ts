/** Types of the generic saga engine. No I/O, no SDK imports. */

export type SagaStatus = 'STARTED' | 'SUCCEEDED' | 'COMPENSATING' | 'ABORTED' | 'FAILED';
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['SUCCEEDED', 'ABORTED', 'FAILED'];

export type StepStatus =
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'COMPENSATING'
  | 'COMPENSATED'
  | 'COMPENSATION_FAILED'
  /** The step does not apply to this saga (its binding's `when` said so): never sent, never compensated. */
  | 'SKIPPED';

export type StepAction = 'forward' | 'compensate';

/** How a participant answered a command. REFUSED: a forward command arrived after its compensation (tombstone). */
export type ReplyOutcome = 'SUCCEEDED' | 'FAILED' | 'REFUSED';

export interface StepState {
  name: string;
  status: StepStatus;
  /** Commands issued for this step (forward + compensation attempts). */
  attempts: number;
  compensationAttempts: number;
  /**
   * The stage the step belongs to (index into the definition's `stages`); only on sagas whose definition declares
   * stages. Absent: the step is a stage of its own.
   */
  stage?: number;
}

export interface HistoryEntry {
  at: string;
  type: string;
  step?: string;
  reason?: string;
}

/** One command of a saga: which step, forward or compensation, which attempt. */
export interface CommandRef {
  step: string;
  action: StepAction;
  attempt: number;
}

/** A command the saga is waiting for. */
export interface Awaiting extends CommandRef {
  /** Epoch ms the command was issued (its schedule time). Older documents lack it: deadlineAt - stepTimeoutMs. */
  issuedAt?: number;
  /** How often its deadline was postponed because the command was still queued behind other work. */
  postponed?: number;
}

/** An outstanding command, with its own deadline. */
export interface Outstanding extends Awaiting {
  /** Epoch ms after which its reply is overdue. */
  deadlineAt: number;
}

/** A failure inside a stage: kept until every member of the stage has answered. */
export interface StepFailure {
  step: string;
  reason: string;
}

export interface SagaState {
  sagaId: string;
  type: string;
  status: SagaStatus;
  /** The step of `awaiting` (null when nothing is outstanding). */
  currentStep: string | null;
  /** The business reason that made the saga compensate (e.g. OUT_OF_STOCK, STEP_TIMEOUT). */
  failureReason: string | null;
  /** Why the saga is FAILED (operator needed), e.g. "compensation of payment did not complete after 3 attempts". */
  failedReason: string | null;
  steps: StepState[];
  /**
   * Every command awaiting a reply (the members of a stage run in parallel), in the order issued. Documents written
   * before it have only `awaiting`: read it with `outstandingOf`.
   */
  outstanding?: Outstanding[];
  /** The first outstanding command, or null (kept for readers and documents written before `outstanding`). */
  awaiting: Awaiting | null;
  /** Epoch ms of the earliest outstanding deadline (null when nothing is outstanding): what the sweeper queries. */
  deadlineAt: number | null;
  /**
   * Failures of the stage being run or compensated whose siblings are still outstanding (forward: the first in
   * definition order becomes failureReason; compensation: the first becomes failedReason). Kept while FAILED: the
   * compensations given up on.
   */
  failures?: StepFailure[];
  history: HistoryEntry[];
  /** Incremented on every change; lets readers detect progress. */
  version: number;
  /** The definition version the saga started on (absent on documents written before versions: 1). */
  definitionVersion?: number;
}

export type SagaEvent =
  | {
      kind: 'reply';
      step: string;
      action: StepAction;
      attempt: number;
      outcome: ReplyOutcome;
      reason?: string | undefined;
    }
  | {
      kind: 'timeout';
      step: string;
      action: StepAction;
      attempt: number;
      /**
       * `deadline`: the sweeper found the step overdue. `deadLetter`: the command's delivery attempts ran out (it
       * reached its dead-letter topic), so the step is timed out at once, whatever its deadline.
       */
      cause: 'deadline' | 'deadLetter';
      /**
       * Deadline only: the command was not taken yet but its participant is answering other work (it is queued
       * behind it). Queue time is not the step's fault: the deadline is postponed, up to scheduleToStartMs after
       * the command was issued.
       */
      queued?: boolean;
      /**
       * Deadline only: when the participant took the command (committed its intent before an external call). The
       * step's clock runs from then: the deadline is postponed to startedAt + stepTimeoutMs if that is later.
       */
      startedAt?: number;
    };

/** A command the engine wants sent; the definition's binding turns it into a message. */
export interface SagaCommand {
  step: string;
  action: StepAction;
  attempt: number;
}

export interface EngineOptions {
  /** A step whose participant does not answer is timed out this long after its command was issued or taken. */
  stepTimeoutMs: number;
  /** The longest a command may wait, queued behind other work, before it is considered lost and timed out. */
  scheduleToStartMs: number;
  compensationMaxAttempts: number;
}

export interface Decision {
  state: SagaState;
  commands: SagaCommand[];
  /** False when the event was a duplicate, late or irrelevant: nothing changed. */
  changed: boolean;
  /** Why an event was ignored (for logs). */
  ignored?: string;
  /**
   * True when the event is not consumed — a timeout that is not due, or whose only effect is a later deadline (a
   * queued command): the caller commits the state (if changed) without an inbox record, so the same timeout event
   * can still apply later.
   */
  deferred?: boolean;
}

/** Declarative saga definition: the engine only needs the type and the ordered step names. */
export interface SagaDefinition {
  type: string;
  /** Definition version (default 1): a saga runs to its end on the version it started with. */
  version?: number;
  steps: readonly string[];
  /**
   * The steps grouped into stages run in order, the steps of a stage in parallel; their concatenation is `steps`.
   * Default: every step is a stage of its own.
   */
  stages?: readonly (readonly string[])[];
}
