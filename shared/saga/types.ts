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
  | 'COMPENSATION_FAILED';

export type StepAction = 'forward' | 'compensate';

/** How a participant answered a command. REFUSED: a forward command arrived after its compensation (tombstone). */
export type ReplyOutcome = 'SUCCEEDED' | 'FAILED' | 'REFUSED';

export interface StepState {
  name: string;
  status: StepStatus;
  /** Commands issued for this step (forward + compensation attempts). */
  attempts: number;
  compensationAttempts: number;
}

export interface HistoryEntry {
  at: string;
  type: string;
  step?: string;
  reason?: string;
}

/** What the saga is waiting for; exactly one command at a time is outstanding. */
export interface Awaiting {
  step: string;
  action: StepAction;
  attempt: number;
}

export interface SagaState {
  sagaId: string;
  type: string;
  status: SagaStatus;
  currentStep: string | null;
  /** The business reason that made the saga compensate (e.g. OUT_OF_STOCK, STEP_TIMEOUT). */
  failureReason: string | null;
  /** Why the saga is FAILED (operator needed), e.g. "compensation of payment did not complete after 3 attempts". */
  failedReason: string | null;
  steps: StepState[];
  awaiting: Awaiting | null;
  /** Epoch ms after which the awaited reply is overdue (null when terminal). */
  deadlineAt: number | null;
  history: HistoryEntry[];
  /** Incremented on every change; lets readers detect progress. */
  version: number;
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
  | { kind: 'timeout'; step: string; action: StepAction; attempt: number };

/** A command the engine wants sent; the definition's binding turns it into a message. */
export interface SagaCommand {
  step: string;
  action: StepAction;
  attempt: number;
}

export interface EngineOptions {
  stepTimeoutMs: number;
  compensationMaxAttempts: number;
}

export interface Decision {
  state: SagaState;
  commands: SagaCommand[];
  /** False when the event was a duplicate, late or irrelevant: nothing changed. */
  changed: boolean;
  /** Why an event was ignored (for logs). */
  ignored?: string;
}

/** Declarative saga definition: the engine only needs the type and the ordered step names. */
export interface SagaDefinition {
  type: string;
  steps: readonly string[];
}
