/**
 * The saga engine: a pure, generic state machine.
 *   start(definition, sagaId, now, options, skipped) → { state, commands }
 *   decide(state, event, now, options)      → { state, commands, changed }
 * No I/O. Duplicate, late and out-of-order events leave the state unchanged and issue no command.
 *
 * Steps run in stages, in order; the steps of a stage run in parallel (without `stages`, every step is a stage of
 * its own). The steps that do not apply to this saga (SKIPPED at start) are passed over. A stage moves on only when
 * every member has answered (or timed out). If a member failed, the saga's failureReason is the failure of the first
 * failed member in definition order (a timeout is STEP_TIMEOUT), and the stages are compensated in reverse, the
 * members of a stage together: the SUCCEEDED ones and the TIMED_OUT ones (their effect is unknown). A compensation
 * that times out is re-issued up to compensationMaxAttempts times, then given up on (COMPENSATION_FAILED); once its
 * siblings have answered the saga is FAILED (an operator is needed). A compensation given up on that is later
 * confirmed (e.g. after the operator redrives its dead-lettered command) counts as compensated: a FAILED saga
 * resumes.
 *
 * Queueing is not failure: an overdue command that its participant has not taken yet, while that participant is
 * answering other work, is queued, not lost. Its deadline is postponed (the step's clock has not started) for up
 * to scheduleToStartMs after it was issued; only then is it timed out as lost. A dead-lettered command (its
 * delivery attempts ran out) times its step out at once. Every outstanding command has its own deadline.
 */
import type {
  Awaiting,
  CommandRef,
  Decision,
  EngineOptions,
  HistoryEntry,
  Outstanding,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
  StepAction,
  StepFailure,
} from './types';
import { TERMINAL_STATUSES } from './types';

/** A state being decided on: its outstanding commands read (see outstandingOf). */
type Working = SagaState & { outstanding: Outstanding[] };

export function isTerminal(state: SagaState): boolean {
  return TERMINAL_STATUSES.includes(state.status);
}

/** The stages of a definition: its `stages` (checked against its steps), or every step a stage of its own. */
export function stagesOf(def: SagaDefinition): readonly (readonly string[])[] {
  const twice = def.steps.find((s, i) => def.steps.indexOf(s) !== i);
  if (twice !== undefined) throw new Error(`saga ${def.type} names step ${twice} twice`);
  if (!def.stages) return def.steps.map((s) => [s]);
  const listed = def.stages.flat();
  if (def.stages.some((st) => st.length === 0) || listed.join('\n') !== def.steps.join('\n')) {
    const shown = def.stages.map((st) => `[${st.join(', ')}]`).join(' ');
    throw new Error(
      `saga ${def.type}: its stages ${shown} must list its steps ${def.steps.join(', ')} in order, each once, no stage empty`,
    );
  }
  return def.stages;
}

/**
 * Starts a saga. `skipped` names the steps that do not apply to this saga (its binding decides, from the saga's
 * data): they are SKIPPED from the start, never sent and never compensated.
 */
export function start(
  def: SagaDefinition,
  sagaId: string,
  now: number,
  opts: EngineOptions,
  skipped: readonly string[] = [],
): Decision {
  if (def.steps.length === 0) throw new Error(`saga ${def.type} has no steps`);
  const stages = stagesOf(def);
  const unknown = skipped.filter((s) => !def.steps.includes(s));
  if (unknown.length > 0) throw new Error(`saga ${def.type} has no step ${unknown.join(', ')} to skip`);
  const at = iso(now);
  const state: Working = {
    sagaId,
    type: def.type,
    status: 'STARTED',
    currentStep: null,
    failureReason: null,
    failedReason: null,
    steps: def.steps.map((name) => ({
      name,
      status: skipped.includes(name) ? 'SKIPPED' : 'PENDING',
      attempts: 0,
      compensationAttempts: 0,
      ...(def.stages ? { stage: stages.findIndex((st) => st.includes(name)) } : {}),
    })),
    outstanding: [],
    awaiting: null,
    deadlineAt: null,
    history: [{ at, type: 'SAGA_STARTED' }],
    version: 1,
    definitionVersion: def.version ?? 1,
  };
  for (const s of state.steps) if (s.status === 'SKIPPED') record(state, now, 'STEP_SKIPPED', s.name);
  const commands = forwardFrom(state, 0, now, opts);
  sync(state);
  return { state, commands, changed: true };
}

export function decide(current: SagaState, event: SagaEvent, now: number, opts: EngineOptions): Decision {
  const index = current.steps.findIndex((s) => s.name === event.step);
  if (isConfirmation(current, event, index)) return confirm(current, index, now, opts);
  if (isTerminal(current)) return unchanged(current, `saga is ${current.status}`);
  const awaited = outstandingOf(current).find((o) => o.step === event.step && o.action === event.action);
  if (!awaited) return unchanged(current, `not awaiting ${event.action} of ${event.step}`);
  if (index < 0) return unchanged(current, `unknown step ${event.step}`);

  if (event.kind === 'timeout') {
    if (event.attempt !== awaited.attempt) return unchanged(current, 'timeout of another attempt');
    const state = working(current);
    if (event.cause === 'deadline') {
      if (now < awaited.deadlineAt) return { ...unchanged(current, 'timeout is not due'), deferred: true };
      const until = postponedDeadline(awaited, now, opts, event.startedAt);
      if ((event.queued || event.startedAt !== undefined) && until !== null)
        return postpone(state, event, until, now);
    } else {
      record(state, now, 'COMMAND_DEAD_LETTERED', event.step, 'MAX_DELIVERY_ATTEMPTS');
    }
    return finish(
      state,
      event.action === 'forward'
        ? forwardTimedOut(state, index, now, opts)
        : compensationTimedOut(state, index, now, opts),
    );
  }

  const state = working(current);
  if (event.action === 'forward') {
    // A forward command is issued once per step: its reply must match that attempt.
    if (event.attempt !== awaited.attempt) return unchanged(current, 'reply to another attempt');
    if (event.outcome === 'SUCCEEDED') return finish(state, forwardSucceeded(state, index, now, opts));
    return finish(state, forwardFailed(state, index, event.reason ?? event.outcome, now, opts));
  }
  // Compensations are idempotent per saga at the participant: a reply to any attempt settles it.
  if (event.outcome === 'SUCCEEDED') return finish(state, compensated(state, index, now, opts));
  const reason = `compensation of ${event.step} failed: ${event.reason ?? event.outcome}`;
  return finish(state, compensationFailed(state, index, reason, now, opts));
}

/** The identity of an awaited command (without its timing). */
export function commandRef(awaiting: Awaiting): CommandRef {
  return { step: awaiting.step, action: awaiting.action, attempt: awaiting.attempt };
}

/** When the command was issued (documents written before issuedAt existed: derived from the deadline). */
export function issuedAt(awaiting: Awaiting, deadlineAt: number, opts: EngineOptions): number {
  return awaiting.issuedAt ?? deadlineAt - opts.stepTimeoutMs;
}

/**
 * Every command the saga awaits, each with its deadline. A document written before `outstanding` existed (or
 * last written by code that did not know it, which left a stale copy) has only `awaiting` and `deadlineAt`.
 */
export function outstandingOf(state: SagaState): Outstanding[] {
  const list = state.outstanding;
  if (list && agrees(state, list)) return list;
  if (!state.awaiting) return [];
  return [{ ...state.awaiting, deadlineAt: state.deadlineAt ?? Number.MAX_SAFE_INTEGER }];
}

/** The outstanding commands whose deadline has passed at `now`. */
export function overdueOf(state: SagaState, now: number): Outstanding[] {
  return outstandingOf(state).filter((o) => o.deadlineAt <= now);
}

/** Whether `outstanding` is what this code last wrote with `awaiting` and `deadlineAt` (see sync). */
function agrees(state: SagaState, list: Outstanding[]): boolean {
  const first = list[0];
  if (!first) return state.awaiting === null && state.deadlineAt === null;
  const a = state.awaiting;
  return (
    a !== null &&
    state.deadlineAt === earliest(list) &&
    a.step === first.step &&
    a.action === first.action &&
    a.attempt === first.attempt &&
    a.issuedAt === first.issuedAt &&
    a.postponed === first.postponed
  );
}

function earliest(list: Outstanding[]): number {
  return Math.min(...list.map((o) => o.deadlineAt));
}

/**
 * The later deadline of an overdue command that is not lost, or null when it is due now: a command taken at
 * `startedAt` has stepTimeoutMs from then; a queued one another stepTimeoutMs (doubling with every postponement),
 * until it has waited scheduleToStartMs since it was issued (then it is lost).
 */
function postponedDeadline(
  cmd: Outstanding,
  now: number,
  opts: EngineOptions,
  startedAt: number | undefined,
): number | null {
  if (startedAt !== undefined) {
    const until = startedAt + opts.stepTimeoutMs;
    return until > now ? until : null;
  }
  const bound = issuedAt(cmd, cmd.deadlineAt, opts) + opts.scheduleToStartMs;
  if (now >= bound) return null;
  // Each postponement twice as long as the one before (a long queue costs the sweeper a few writes per saga,
  // not one per step timeout), never past the bound.
  const factor = 2 ** Math.min(cmd.postponed ?? 0, 10);
  return Math.min(now + opts.stepTimeoutMs * factor, bound);
}

function postpone(state: Working, ref: CommandRef, until: number, now: number): Decision {
  const cmd = state.outstanding.find((o) => o.step === ref.step && o.action === ref.action)!;
  const times = (cmd.postponed ?? 0) + 1;
  cmd.postponed = times;
  cmd.deadlineAt = until;
  // Once per command in the history: a busy participant is an expected condition, not an event per sweep.
  if (times === 1) record(state, now, 'STEP_QUEUED', cmd.step, 'PARTICIPANT_BUSY');
  sync(state);
  state.version += 1;
  return { state, commands: [], changed: true, deferred: true };
}

/**
 * A compensation given up on (COMPENSATION_FAILED) that is confirmed after all — e.g. an operator fixed the cause
 * and redrove the dead-lettered command, or its reply was only late — counts as compensated.
 */
function isConfirmation(state: SagaState, event: SagaEvent, index: number): boolean {
  if (event.kind !== 'reply' || event.action !== 'compensate' || event.outcome !== 'SUCCEEDED') return false;
  if (state.status !== 'FAILED' && state.status !== 'COMPENSATING') return false;
  return state.steps[index]?.status === 'COMPENSATION_FAILED';
}

/**
 * Confirms a compensation given up on. A FAILED saga resumes (compensation continues with the earlier stages)
 * unless another compensation of the same stage is still given up on; a COMPENSATING one still waits for the step's
 * siblings.
 */
function confirm(current: SagaState, index: number, now: number, opts: EngineOptions): Decision {
  const state = working(current);
  const step = state.steps[index]!;
  state.failures = (state.failures ?? []).filter((f) => f.step !== step.name);
  step.status = 'COMPENSATED';
  if (state.status === 'FAILED') {
    const still = firstFailure(state, stageMembers(state, index));
    if (still) {
      state.failedReason = still.reason;
      record(state, now, 'STEP_COMPENSATED', step.name);
      return finish(state, []);
    }
    state.status = 'COMPENSATING';
    state.failedReason = null;
    record(state, now, 'SAGA_RESUMED', step.name);
  }
  record(state, now, 'STEP_COMPENSATED', step.name);
  return finish(state, stageCompensated(state, index, now, opts));
}

function forwardSucceeded(state: Working, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const step = state.steps[index]!;
  release(state, step.name, 'forward');
  step.status = 'SUCCEEDED';
  record(state, now, 'STEP_SUCCEEDED', step.name);
  return stageAnswered(state, index, now, opts);
}

function forwardFailed(
  state: Working,
  index: number,
  reason: string,
  now: number,
  opts: EngineOptions,
): SagaCommand[] {
  const step = state.steps[index]!;
  release(state, step.name, 'forward');
  step.status = 'FAILED';
  addFailure(state, step.name, reason);
  record(state, now, 'STEP_FAILED', step.name, reason);
  return stageAnswered(state, index, now, opts);
}

function forwardTimedOut(state: Working, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const step = state.steps[index]!;
  release(state, step.name, 'forward');
  // Its effect is unknown: it is compensated with the stage's succeeded members.
  step.status = 'TIMED_OUT';
  addFailure(state, step.name, 'STEP_TIMEOUT');
  record(state, now, 'STEP_TIMED_OUT', step.name, 'STEP_TIMEOUT');
  return stageAnswered(state, index, now, opts);
}

/**
 * A forward member of a stage answered: once all have, the next stage runs, or — if one failed — the saga takes
 * the first failure in definition order as its reason and compensates from this stage back.
 */
function stageAnswered(state: Working, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const members = stageMembers(state, index);
  if (members.some((i) => state.steps[i]!.status === 'RUNNING')) return [];
  const failure = firstFailure(state, members);
  const stage = stageIndex(state, index);
  if (!failure) return forwardFrom(state, stage + 1, now, opts);
  state.failureReason = failure.reason;
  state.failures = [];
  return compensateFrom(state, stage, now, opts);
}

/** Issues every PENDING step of the first stage at or after `from` that has any; SUCCEEDED when none is left. */
function forwardFrom(state: Working, from: number, now: number, opts: EngineOptions): SagaCommand[] {
  const stages = stagesIn(state);
  for (let k = from; k < stages.length; k++) {
    const pending = stages[k]!.filter((i) => state.steps[i]!.status === 'PENDING');
    if (pending.length > 0) return pending.map((i) => issue(state, i, 'forward', 1, now, opts));
  }
  state.status = 'SUCCEEDED';
  record(state, now, 'SAGA_SUCCEEDED');
  return [];
}

function compensated(state: Working, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const step = state.steps[index]!;
  release(state, step.name, 'compensate');
  step.status = 'COMPENSATED';
  record(state, now, 'STEP_COMPENSATED', step.name);
  return stageCompensated(state, index, now, opts);
}

function compensationTimedOut(
  state: Working,
  index: number,
  now: number,
  opts: EngineOptions,
): SagaCommand[] {
  const step = state.steps[index]!;
  if (step.compensationAttempts < opts.compensationMaxAttempts) {
    record(state, now, 'COMPENSATION_RETRIED', step.name, 'STEP_TIMEOUT');
    return [issue(state, index, 'compensate', step.compensationAttempts + 1, now, opts)];
  }
  const reason = `compensation of ${step.name} did not complete after ${step.compensationAttempts} attempts`;
  return compensationFailed(state, index, reason, now, opts);
}

/** Gives a compensation up: the step is COMPENSATION_FAILED; the saga is FAILED once its siblings answered. */
function compensationFailed(
  state: Working,
  index: number,
  reason: string,
  now: number,
  opts: EngineOptions,
): SagaCommand[] {
  const step = state.steps[index]!;
  release(state, step.name, 'compensate');
  step.status = 'COMPENSATION_FAILED';
  addFailure(state, step.name, reason);
  record(state, now, 'COMPENSATION_FAILED', step.name, reason);
  return stageCompensated(state, index, now, opts);
}

/**
 * A compensation of a stage answered: once all have, the previous stage is compensated, or — if one was given
 * up on — the saga is FAILED with the first such failure in definition order.
 */
function stageCompensated(state: Working, index: number, now: number, opts: EngineOptions): SagaCommand[] {
  const members = stageMembers(state, index);
  if (members.some((i) => state.steps[i]!.status === 'COMPENSATING')) return [];
  const failure = firstFailure(state, members);
  if (failure) {
    state.status = 'FAILED';
    state.failedReason = failure.reason;
    record(state, now, 'SAGA_FAILED', undefined, failure.reason);
    return [];
  }
  return compensateFrom(state, stageIndex(state, index) - 1, now, opts);
}

/**
 * Compensates the last stage at or before `from` with steps whose effect may exist (SUCCEEDED, TIMED_OUT), all of
 * them together, in reverse order; ABORTED when none is left.
 */
function compensateFrom(state: Working, from: number, now: number, opts: EngineOptions): SagaCommand[] {
  if (state.status !== 'COMPENSATING') {
    state.status = 'COMPENSATING';
    record(state, now, 'COMPENSATION_STARTED', undefined, state.failureReason ?? undefined);
  }
  const stages = stagesIn(state);
  for (let k = from; k >= 0; k--) {
    const due = stages[k]!.filter((i) => ['SUCCEEDED', 'TIMED_OUT'].includes(state.steps[i]!.status));
    if (due.length > 0) return due.reverse().map((i) => issue(state, i, 'compensate', 1, now, opts));
  }
  state.status = 'ABORTED';
  record(state, now, 'SAGA_ABORTED', undefined, state.failureReason ?? undefined);
  return [];
}

function issue(
  state: Working,
  index: number,
  action: StepAction,
  attempt: number,
  now: number,
  opts: EngineOptions,
): SagaCommand {
  const step = state.steps[index]!;
  step.attempts += 1;
  if (action === 'forward') {
    step.status = 'RUNNING';
    record(state, now, 'STEP_STARTED', step.name);
  } else {
    step.status = 'COMPENSATING';
    step.compensationAttempts = attempt;
    if (attempt === 1) record(state, now, 'STEP_COMPENSATING', step.name);
  }
  const cmd: Outstanding = {
    step: step.name,
    action,
    attempt,
    issuedAt: now,
    deadlineAt: now + opts.stepTimeoutMs,
  };
  // A re-issued compensation replaces its earlier attempt.
  const at = state.outstanding.findIndex((o) => o.step === step.name && o.action === action);
  if (at >= 0) state.outstanding[at] = cmd;
  else state.outstanding.push(cmd);
  return { step: step.name, action, attempt };
}

function release(state: Working, step: string, action: StepAction): void {
  const at = state.outstanding.findIndex((o) => o.step === step && o.action === action);
  if (at >= 0) state.outstanding.splice(at, 1);
}

function addFailure(state: Working, step: string, reason: string): void {
  state.failures = [...(state.failures ?? []), { step, reason }];
}

/** The failure of the first member (in definition order) of `members` that has one. */
function firstFailure(state: SagaState, members: number[]): StepFailure | undefined {
  for (const i of members) {
    const failure = state.failures?.find((f) => f.step === state.steps[i]!.name);
    if (failure) return failure;
  }
  return undefined;
}

/** The stages of a saga as step indices: consecutive steps with the same `stage` form one. */
function stagesIn(state: SagaState): number[][] {
  const stages: number[][] = [];
  state.steps.forEach((s, i) => {
    const last = stages[stages.length - 1];
    if (last && s.stage !== undefined && state.steps[i - 1]!.stage === s.stage) last.push(i);
    else stages.push([i]);
  });
  return stages;
}

function stageIndex(state: SagaState, index: number): number {
  return stagesIn(state).findIndex((st) => st.includes(index));
}

function stageMembers(state: SagaState, index: number): number[] {
  return stagesIn(state)[stageIndex(state, index)]!;
}

/** Derives `awaiting`, `currentStep` and `deadlineAt` (the earliest deadline: what the sweeper queries). */
function sync(state: Working): void {
  const first = state.outstanding[0];
  state.awaiting = first ? awaitingOf(first) : null;
  state.currentStep = first?.step ?? null;
  state.deadlineAt = first ? earliest(state.outstanding) : null;
  if (state.failures?.length === 0) delete state.failures;
}

function awaitingOf(cmd: Outstanding): Awaiting {
  const a: Awaiting = { step: cmd.step, action: cmd.action, attempt: cmd.attempt };
  if (cmd.issuedAt !== undefined) a.issuedAt = cmd.issuedAt;
  if (cmd.postponed !== undefined) a.postponed = cmd.postponed;
  return a;
}

function working(current: SagaState): Working {
  return { ...clone(current), outstanding: structuredClone(outstandingOf(current)) };
}

function finish(state: Working, commands: SagaCommand[]): Decision {
  sync(state);
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
