/**
 * The saga engine: a pure, generic state machine.
 *   start(definition, sagaId, now, options) → { state, commands }
 *   decide(state, event, now, options)      → { state, commands, changed }
 * No I/O. Duplicate, late and out-of-order events leave the state unchanged and issue no command.
 * Steps run forward in order; a business failure compensates the completed steps in reverse; a timed-out step is
 * compensated too (its effect is unknown); a compensation that times out is re-issued up to
 * compensationMaxAttempts times, then the saga is FAILED (an operator is needed); a FAILED saga resumes if that
 * compensation is later confirmed (e.g. after the operator redrives its dead-lettered command).
 */
import type {
  Decision,
  EngineOptions,
  HistoryEntry,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
  StepState,
} from './types';
import { TERMINAL_STATUSES } from './types';

export function isTerminal(state: SagaState): boolean {
  return TERMINAL_STATUSES.includes(state.status);
}

export function start(def: SagaDefinition, sagaId: string, now: number, opts: EngineOptions): Decision {
  if (def.steps.length === 0) throw new Error(`saga ${def.type} has no steps`);
  const at = iso(now);
  const first = def.steps[0]!;
  const state: SagaState = {
    sagaId,
    type: def.type,
    status: 'STARTED',
    currentStep: first,
    failureReason: null,
    failedReason: null,
    steps: def.steps.map((name) => ({ name, status: 'PENDING', attempts: 0, compensationAttempts: 0 })),
    awaiting: null,
    deadlineAt: null,
    history: [{ at, type: 'SAGA_STARTED' }],
    version: 1,
  };
  const commands = [issue(state, 0, 'forward', 1, now, opts)];
  return { state, commands, changed: true };
}

export function decide(current: SagaState, event: SagaEvent, now: number, opts: EngineOptions): Decision {
  if (isResumable(current, event)) return resume(current, event.step, now, opts);
  if (isTerminal(current)) return unchanged(current, `saga is ${current.status}`);
  const awaiting = current.awaiting;
  if (!awaiting || awaiting.step !== event.step || awaiting.action !== event.action) {
    return unchanged(current, `not awaiting ${event.action} of ${event.step}`);
  }
  const state = clone(current);
  const index = state.steps.findIndex((s) => s.name === event.step);
  if (index < 0) return unchanged(current, `unknown step ${event.step}`);

  if (event.kind === 'timeout') {
    if (event.attempt !== awaiting.attempt || state.deadlineAt === null || now < state.deadlineAt) {
      return unchanged(current, 'timeout is not due');
    }
    return finish(
      state,
      event.action === 'forward'
        ? forwardTimedOut(state, index, now, opts)
        : compensationTimedOut(state, index, now, opts),
    );
  }

  if (event.action === 'forward') {
    // A forward command is issued once per step: its reply must match that attempt.
    if (event.attempt !== awaiting.attempt) return unchanged(current, 'reply to another attempt');
    if (event.outcome === 'SUCCEEDED') return finish(state, forwardSucceeded(state, index, now, opts));
    return finish(state, forwardFailed(state, index, event.reason ?? event.outcome, now, opts));
  }
  // Compensations are idempotent per saga at the participant: a reply to any attempt settles it.
  if (event.outcome === 'SUCCEEDED') return finish(state, compensated(state, index, now, opts));
  return finish(
    state,
    compensationFailed(
      state,
      index,
      `compensation of ${event.step} failed: ${event.reason ?? event.outcome}`,
      now,
    ),
  );
}

/**
 * A FAILED saga resumes when the compensation it gave up on is confirmed after all (an operator fixed the cause and
 * redrove the dead-lettered command): the step is compensated and compensation continues with the earlier steps.
 */
function isResumable(state: SagaState, event: SagaEvent): boolean {
  if (state.status !== 'FAILED' || event.kind !== 'reply' || event.action !== 'compensate') return false;
  if (event.outcome !== 'SUCCEEDED') return false;
  return state.steps.find((s) => s.name === event.step)?.status === 'COMPENSATION_FAILED';
}

function resume(current: SagaState, stepName: string, now: number, opts: EngineOptions): Decision {
  const state = clone(current);
  const index = state.steps.findIndex((s) => s.name === stepName);
  state.status = 'COMPENSATING';
  state.failedReason = null;
  record(state, now, 'SAGA_RESUMED', stepName);
  return finish(state, compensated(state, index, now, opts));
}

function forwardSucceeded(state: SagaState, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const step = state.steps[index]!;
  step.status = 'SUCCEEDED';
  record(state, now, 'STEP_SUCCEEDED', step.name);
  const next = index + 1;
  if (next < state.steps.length) return [issue(state, next, 'forward', 1, now, opts)];
  state.status = 'SUCCEEDED';
  settle(state);
  record(state, now, 'SAGA_SUCCEEDED');
  return [];
}

function forwardFailed(
  state: SagaState,
  index: number,
  reason: string,
  now: number,
  opts: EngineOptions,
): SagaCommand[] {
  const step = state.steps[index]!;
  step.status = 'FAILED';
  state.failureReason = reason;
  record(state, now, 'STEP_FAILED', step.name, reason);
  return compensateFrom(state, index - 1, now, opts);
}

function forwardTimedOut(state: SagaState, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const step = state.steps[index]!;
  step.status = 'TIMED_OUT';
  state.failureReason = 'STEP_TIMEOUT';
  record(state, now, 'STEP_TIMED_OUT', step.name, 'STEP_TIMEOUT');
  // The step's effect is unknown: compensate it as well as the earlier ones.
  return compensateFrom(state, index, now, opts);
}

function compensated(state: SagaState, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const step = state.steps[index]!;
  step.status = 'COMPENSATED';
  record(state, now, 'STEP_COMPENSATED', step.name);
  return compensateFrom(state, index - 1, now, opts);
}

function compensationTimedOut(
  state: SagaState,
  index: number,
  now: number,
  opts: EngineOptions,
): SagaCommand[] {
  const step = state.steps[index]!;
  if (step.compensationAttempts < opts.compensationMaxAttempts) {
    record(state, now, 'COMPENSATION_RETRIED', step.name, 'STEP_TIMEOUT');
    return [issue(state, index, 'compensate', step.compensationAttempts + 1, now, opts)];
  }
  return compensationFailed(
    state,
    index,
    `compensation of ${step.name} did not complete after ${step.compensationAttempts} attempts`,
    now,
  );
}

function compensationFailed(state: SagaState, index: number, reason: string, now: number): SagaCommand[] {
  const step = state.steps[index]!;
  step.status = 'COMPENSATION_FAILED';
  state.status = 'FAILED';
  state.failedReason = reason;
  record(state, now, 'COMPENSATION_FAILED', step.name, reason);
  settle(state);
  record(state, now, 'SAGA_FAILED', undefined, reason);
  return [];
}

/** Compensates, in reverse, every step at or before `from` whose effect may exist; aborts when none is left. */
function compensateFrom(state: SagaState, from: number, now: number, opts: EngineOptions): SagaCommand[] {
  if (state.status !== 'COMPENSATING') {
    state.status = 'COMPENSATING';
    record(state, now, 'COMPENSATION_STARTED', undefined, state.failureReason ?? undefined);
  }
  for (let i = from; i >= 0; i--) {
    const s = state.steps[i]!;
    if (s.status === 'SUCCEEDED' || s.status === 'TIMED_OUT')
      return [issue(state, i, 'compensate', 1, now, opts)];
  }
  state.status = 'ABORTED';
  settle(state);
  record(state, now, 'SAGA_ABORTED', undefined, state.failureReason ?? undefined);
  return [];
}

function issue(
  state: SagaState,
  index: number,
  action: SagaCommand['action'],
  attempt: number,
  now: number,
  opts: EngineOptions,
): SagaCommand {
  const step: StepState = state.steps[index]!;
  step.attempts += 1;
  if (action === 'forward') {
    step.status = 'RUNNING';
    record(state, now, 'STEP_STARTED', step.name);
  } else {
    step.status = 'COMPENSATING';
    step.compensationAttempts = attempt;
    if (attempt === 1) record(state, now, 'STEP_COMPENSATING', step.name);
  }
  state.currentStep = step.name;
  state.awaiting = { step: step.name, action, attempt };
  state.deadlineAt = now + opts.stepTimeoutMs;
  return { step: step.name, action, attempt };
}

function settle(state: SagaState): void {
  state.currentStep = null;
  state.awaiting = null;
  state.deadlineAt = null;
}

function finish(state: SagaState, commands: SagaCommand[]): Decision {
  state.version += 1;
  return { state, commands, changed: true };
}

function unchanged(state: SagaState, ignored: string): Decision {
  return { state, commands: [], changed: false, ignored };
}

function record(state: SagaState, now: number, type: string, step?: string, reason?: string): void {
  const entry: HistoryEntry = { at: iso(now), type };
  if (step !== undefined) entry.step = step;
  if (reason !== undefined) entry.reason = reason;
  state.history.push(entry);
}

function clone(state: SagaState): SagaState {
  return structuredClone(state);
}

function iso(now: number): string {
  return new Date(now).toISOString();
}
