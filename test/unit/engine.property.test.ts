/**
 * Property: the engine, driven over a model bus with model participants, always reaches a terminal state whose
 * effects match its outcome, whatever the interleaving, duplicates, reorderings and timeouts.
 *
 * The model:
 *  - a bus of in-flight messages (commands to participants, replies to the orchestrator); each delivery takes a
 *    message chosen by fast-check (reordering), optionally leaving a copy behind (duplicate delivery). Nothing is
 *    ever lost: every command is eventually answered.
 *  - participants deduplicate by command id (an inbox) and keep per-saga, per-step effect state: a forward
 *    command applies its effect when the drawn outcome is SUCCEEDED; a compensation undoes an applied effect
 *    (idempotently per saga) or, arriving before the forward, leaves a tombstone so the late forward is REFUSED.
 *    A compensation always SUCCEEDS.
 *  - at random, the sweeper fires: the clock jumps to the saga's deadlineAt and a timeout event for what it awaits
 *    is applied; old timeout events are replayed too (they must be ignored).
 * A saga becomes FAILED only when a compensation timed out compensationMaxAttempts times; since no message is lost
 * here, the late confirmation of that compensation may still arrive and resume it (it then ends ABORTED, net zero).
 */
import fc from 'fast-check';
import { decide, isTerminal, start } from '../../shared/saga/engine';
import { orderPlacement } from '../../shared/saga/order-placement';
import type {
  Decision,
  EngineOptions,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
} from '../../shared/saga/types';

const STEP_TIMEOUT_MS = 1_000;
const T0 = Date.UTC(2024, 5, 1);
const RANDOM_CHOICES = 150;
const MAX_DELIVERIES = 200;

type Forward = { outcome: 'SUCCEEDED' } | { outcome: 'FAILED'; reason: string };

interface CommandMsg extends SagaCommand {
  kind: 'command';
  sagaId: string;
  copies: number;
}
interface ReplyMsg {
  kind: 'reply';
  sagaId: string;
  event: Extract<SagaEvent, { kind: 'reply' }>;
  copies: number;
}
type Msg = CommandMsg | ReplyMsg;

type Choice =
  | { kind: 'deliver'; pick: number; duplicate: boolean }
  | { kind: 'timeout'; pick: number }
  | { kind: 'replayTimeout'; pick: number }
  | { kind: 'tick'; ms: number };

interface Effect {
  /** Times the forward effect was applied / undone. */
  applied: number;
  undone: number;
  forwardSeen: boolean;
  tombstone: boolean;
  refused: number;
}

interface SagaRun {
  id: string;
  outcomes: Forward[];
  state: SagaState;
  effects: Effect[];
  forwardsIssued: number[];
  timeoutsApplied: number;
}

interface Scenario {
  def: SagaDefinition;
  compensationMaxAttempts: number;
  sagas: Forward[][];
  choices: Choice[];
}

const forwardArb: fc.Arbitrary<Forward> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ outcome: 'SUCCEEDED' as const }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('OUT_OF_STOCK', 'PAYMENT_DECLINED', 'CREDIT_LIMIT_EXCEEDED').map((reason) => ({
      outcome: 'FAILED' as const,
      reason,
    })),
  },
);

const defArb: fc.Arbitrary<SagaDefinition> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(orderPlacement.definition) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 5 })
      .map((n) => ({ type: `generic-${n}`, steps: Array.from({ length: n }, (_, i) => `s${i}`) })),
  },
);

const choiceArb: fc.Arbitrary<Choice> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      pick: fc.nat(),
      // One delivery in four leaves a copy behind (a duplicate delivered later).
      duplicate: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('timeout' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replayTimeout' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      ms: fc.integer({ min: 0, max: 2 * STEP_TIMEOUT_MS }),
    }),
  },
);

const scenarioArb: fc.Arbitrary<Scenario> = defArb.chain((def) =>
  fc.record({
    def: fc.constant(def),
    compensationMaxAttempts: fc.integer({ min: 1, max: 3 }),
    sagas: fc.array(fc.array(forwardArb, { minLength: def.steps.length, maxLength: def.steps.length }), {
      minLength: 1,
      maxLength: 3,
    }),
    choices: fc.array(choiceArb, { maxLength: RANDOM_CHOICES }),
  }),
);

/** Observed across all runs, to check the generator reaches every path. */
const seen = {
  SUCCEEDED: 0,
  ABORTED: 0,
  /** Transitions into FAILED (a FAILED saga may later resume and end ABORTED). */
  FAILED: 0,
  resumed: 0,
  refusedForwards: 0,
  tombstones: 0,
  forwardTimeouts: 0,
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** decide() with the purity checks every call must pass. */
function checkedDecide(state: SagaState, event: SagaEvent, now: number, opts: EngineOptions): Decision {
  const snapshot = structuredClone(state);
  const input = deepFreeze(structuredClone(state));
  const d = decide(input, event, now, opts);
  expect(input).toEqual(snapshot);
  if (d.changed) {
    expect(d.state.version).toBe(snapshot.version + 1);
  } else {
    expect(d.commands).toEqual([]);
    expect(d.state).toEqual(snapshot);
  }
  expect(d.commands.length).toBeLessThanOrEqual(1);
  if (isTerminal(d.state)) {
    expect(d.commands).toEqual([]);
    expect(d.state.awaiting).toBeNull();
    expect(d.state.deadlineAt).toBeNull();
  } else {
    expect(d.state.awaiting).not.toBeNull();
    expect(d.state.deadlineAt).not.toBeNull();
    if (d.changed) {
      // A change while not terminal always (re-)issues exactly the awaited command.
      expect(d.commands).toEqual([d.state.awaiting]);
      expect(d.state.deadlineAt).toBe(now + opts.stepTimeoutMs);
    }
  }
  return { ...d, state: structuredClone(d.state) };
}

function runScenario(sc: Scenario): void {
  const opts: EngineOptions = {
    stepTimeoutMs: STEP_TIMEOUT_MS,
    compensationMaxAttempts: sc.compensationMaxAttempts,
  };
  const steps = sc.def.steps;
  let now = T0;
  const bus: Msg[] = [];
  const inbox = new Map<string, ReplyMsg['event']>();
  const timeoutsSent: { sagaId: string; event: SagaEvent }[] = [];
  const runs = new Map<string, SagaRun>();

  const send = (sagaId: string, commands: SagaCommand[]) => {
    for (const c of commands) {
      const run = runs.get(sagaId)!;
      if (c.action === 'forward') run.forwardsIssued[steps.indexOf(c.step)]! += 1;
      bus.push({ kind: 'command', sagaId, ...c, copies: 0 });
    }
  };

  sc.sagas.forEach((outcomes, i) => {
    const id = `order-${i}`;
    const d = start(sc.def, id, now, opts);
    runs.set(id, {
      id,
      outcomes,
      state: structuredClone(d.state),
      effects: steps.map(() => ({ applied: 0, undone: 0, forwardSeen: false, tombstone: false, refused: 0 })),
      forwardsIssued: steps.map(() => 0),
      timeoutsApplied: 0,
    });
    send(id, d.commands);
  });

  const participant = (m: CommandMsg): ReplyMsg['event'] => {
    const key = `${m.sagaId}:${m.step}:${m.action}:${m.attempt}`;
    const done = inbox.get(key);
    if (done) return done; // duplicate: the recorded reply is sent again, no effect
    const run = runs.get(m.sagaId)!;
    const index = steps.indexOf(m.step);
    const effect = run.effects[index]!;
    let reply: ReplyMsg['event'];
    const base = { kind: 'reply' as const, step: m.step, action: m.action, attempt: m.attempt };
    if (m.action === 'forward') {
      effect.forwardSeen = true;
      if (effect.tombstone) {
        effect.refused += 1;
        reply = { ...base, outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };
      } else {
        const drawn = run.outcomes[index]!;
        if (drawn.outcome === 'SUCCEEDED') effect.applied += 1;
        reply = {
          ...base,
          outcome: drawn.outcome,
          reason: drawn.outcome === 'FAILED' ? drawn.reason : undefined,
        };
      }
    } else {
      if (effect.applied > effect.undone) effect.undone += 1;
      else if (!effect.forwardSeen) effect.tombstone = true;
      reply = { ...base, outcome: 'SUCCEEDED' };
    }
    inbox.set(key, reply);
    return reply;
  };

  const orchestrate = (sagaId: string, event: SagaEvent) => {
    const run = runs.get(sagaId)!;
    const wasFailed = run.state.status === 'FAILED';
    const d = checkedDecide(run.state, event, now, opts);
    run.state = d.state;
    if (d.changed && event.kind === 'timeout') run.timeoutsApplied += 1;
    if (!wasFailed && d.state.status === 'FAILED') {
      // FAILED only when a compensation timed out compensationMaxAttempts times (compensations never fail here).
      seen.FAILED += 1;
      expect(event.kind).toBe('timeout');
      expect(d.state.failedReason).toBe(
        `compensation of ${event.step} did not complete after ${sc.compensationMaxAttempts} attempts`,
      );
      expect(d.state.steps.find((s) => s.name === event.step)!.compensationAttempts).toBe(
        sc.compensationMaxAttempts,
      );
    }
    if (wasFailed && d.changed) {
      // Only the late confirmation of the compensation given up on may move a FAILED saga (it resumes).
      seen.resumed += 1;
      expect(event).toMatchObject({ kind: 'reply', action: 'compensate', outcome: 'SUCCEEDED' });
      expect(d.state.status).not.toBe('FAILED');
    }
    send(sagaId, d.commands);
  };

  let deliveries = 0;
  const deliver = (index: number, duplicate: boolean) => {
    const m = bus[index]!;
    if (duplicate && m.copies < 2) m.copies += 1;
    else bus.splice(index, 1);
    deliveries += 1;
    if (m.kind === 'command') {
      bus.push({ kind: 'reply', sagaId: m.sagaId, event: participant(m), copies: 0 });
    } else {
      orchestrate(m.sagaId, m.event);
    }
  };

  // Random phase: interleavings, duplicates, reorderings, timeouts.
  for (const choice of sc.choices) {
    if (deliveries >= MAX_DELIVERIES) break;
    switch (choice.kind) {
      case 'deliver':
        if (bus.length > 0) deliver(choice.pick % bus.length, choice.duplicate);
        break;
      case 'timeout': {
        const active = [...runs.values()].filter((r) => !isTerminal(r.state));
        if (active.length === 0) break;
        const run = active[choice.pick % active.length]!;
        now = Math.max(now, run.state.deadlineAt!);
        const event: SagaEvent = { kind: 'timeout', ...run.state.awaiting! };
        if (event.action === 'forward') seen.forwardTimeouts += 1;
        timeoutsSent.push({ sagaId: run.id, event });
        orchestrate(run.id, event);
        break;
      }
      case 'replayTimeout': {
        if (timeoutsSent.length === 0) break;
        const old = timeoutsSent[choice.pick % timeoutsSent.length]!;
        const before = runs.get(old.sagaId)!.state.version;
        now += STEP_TIMEOUT_MS; // even long overdue, an old timeout is stale
        orchestrate(old.sagaId, old.event);
        expect(runs.get(old.sagaId)!.state.version).toBe(before);
        break;
      }
      case 'tick':
        now += choice.ms;
        break;
    }
  }

  // Drain: deliver everything still in flight, in order, without duplicates. No message is lost, so no saga may
  // be left waiting: the run ends with every saga terminal and nothing in flight.
  let guard = 0;
  while (bus.length > 0) {
    expect(++guard).toBeLessThan(10_000);
    now += 1;
    deliver(0, false);
  }

  for (const run of runs.values()) {
    const { state, effects, outcomes } = run;
    expect(isTerminal(state)).toBe(true);
    if (state.status === 'SUCCEEDED') seen.SUCCEEDED += 1;
    if (state.status === 'ABORTED') seen.ABORTED += 1;
    effects.forEach((e, i) => {
      // Whatever the duplicates: a step's effect is applied at most once, undone at most what was applied.
      expect(e.applied).toBeLessThanOrEqual(1);
      expect(e.undone).toBeLessThanOrEqual(e.applied);
      expect(run.forwardsIssued[i]).toBeLessThanOrEqual(1);
      seen.refusedForwards += e.refused;
      if (e.tombstone) seen.tombstones += 1;
    });
    const firstFailure = outcomes.findIndex((o) => o.outcome === 'FAILED');
    const timedOutForward = state.history.some((h) => h.type === 'STEP_TIMED_OUT');

    switch (state.status) {
      case 'SUCCEEDED':
        expect(firstFailure).toBe(-1);
        expect(timedOutForward).toBe(false);
        effects.forEach((e) => expect(e).toMatchObject({ applied: 1, undone: 0, tombstone: false }));
        expect(state.steps.every((s) => s.status === 'SUCCEEDED')).toBe(true);
        break;
      case 'ABORTED':
        // Net zero: every applied effect was compensated exactly once.
        effects.forEach((e) => expect(e.applied - e.undone).toBe(0));
        state.steps.forEach((s) => expect(['COMPENSATED', 'FAILED', 'PENDING']).toContain(s.status));
        if (timedOutForward) {
          expect(state.failureReason).toBe('STEP_TIMEOUT');
        } else {
          expect(firstFailure).toBeGreaterThanOrEqual(0);
          const failed = outcomes[firstFailure]!;
          expect(state.failureReason).toBe(failed.outcome === 'FAILED' ? failed.reason : 'unreachable');
          expect(state.steps[firstFailure]!.status).toBe('FAILED');
        }
        break;
      case 'FAILED':
        // A saga is FAILED only after a compensation timed out compensationMaxAttempts times (checked at the
        // transition); here no message is lost, so that compensation's reply always arrives later and resumes it.
        throw new Error(
          `saga ${run.id} left FAILED although its compensation was confirmed: ${state.failedReason}`,
        );
      default:
        throw new Error(`not terminal: ${state.status}`);
    }

    // Without any timeout, the outcome is decided by the participants' answers alone.
    if (run.timeoutsApplied === 0) {
      if (firstFailure < 0) expect(state.status).toBe('SUCCEEDED');
      else
        expect(state).toMatchObject({
          status: 'ABORTED',
          failureReason: (outcomes[firstFailure] as { reason: string }).reason,
        });
    }
  }
}

describe('engine over a model bus (property)', () => {
  it('always terminates with effects matching the outcome', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        runScenario(sc);
      }),
      { numRuns: 300 },
    );
    // The generator reaches every path (otherwise the property above proves little).
    expect(seen.SUCCEEDED).toBeGreaterThan(0);
    expect(seen.ABORTED).toBeGreaterThan(0);
    expect(seen.FAILED).toBeGreaterThan(0);
    expect(seen.resumed).toBeGreaterThan(0);
    expect(seen.forwardTimeouts).toBeGreaterThan(0);
    expect(seen.tombstones).toBeGreaterThan(0);
    expect(seen.refusedForwards).toBeGreaterThan(0);
  });

  it('a saga with no timeouts and no failures succeeds under any delivery order and duplicates', () => {
    const noTimeouts = fc.array(
      fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean() }),
      { maxLength: RANDOM_CHOICES },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), noTimeouts, (n, choices) => {
        const def = orderPlacement.definition;
        const sagas = Array.from({ length: n }, () =>
          def.steps.map((): Forward => ({ outcome: 'SUCCEEDED' })),
        );
        runScenario({ def, compensationMaxAttempts: 3, sagas, choices });
      }),
      { numRuns: 100 },
    );
  });
});
