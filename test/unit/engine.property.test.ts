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
 *  - at random, the sweeper fires for one outstanding command: the clock jumps to that command's deadline and a
 *    timeout event for it is applied (sometimes as "queued": its deadline is postponed; sometimes as a dead letter:
 *    at once); old timeout events are replayed too (they must be ignored).
 * Definitions are sequential or have stages (steps run in parallel within a stage). Each saga skips an arbitrary set
 * of its steps (as a binding's `when` would): a skipped step is never sent, never compensated, and its drawn outcome
 * never matters.
 * A saga becomes FAILED only when a compensation timed out compensationMaxAttempts times; since no message is lost
 * here, the late confirmation of that compensation may still arrive and resume it (it then ends ABORTED, net zero).
 */
import fc from 'fast-check';
import {
  commandRef,
  decide,
  isTerminal,
  outstandingOf,
  stagesOf,
  start,
} from '../../shared/runtime/engine/engine';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import type {
  Decision,
  EngineOptions,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
} from '../../shared/runtime/engine/types';

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
  | { kind: 'timeout'; pick: number; how: 'deadline' | 'queued' | 'deadLetter' }
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
  skipped: boolean[];
  state: SagaState;
  effects: Effect[];
  forwardsIssued: number[];
  timeoutsApplied: number;
}

interface SagaSpec {
  outcomes: Forward[];
  /** Per step: skipped at start. */
  skipped: boolean[];
}

interface Scenario {
  def: SagaDefinition;
  compensationMaxAttempts: number;
  sagas: SagaSpec[];
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

/** Steps s0…s(n-1), cut into stages where `cuts` says (cut i: a new stage starts at step i + 1). */
function staged(n: number, cuts: boolean[]): SagaDefinition {
  const steps = Array.from({ length: n }, (_, i) => `s${i}`);
  const stages: string[][] = [[]];
  steps.forEach((step, i) => {
    if (i > 0 && cuts[i - 1]) stages.push([]);
    stages[stages.length - 1]!.push(step);
  });
  return { type: `staged-${n}`, steps, stages };
}

const stagedArb: fc.Arbitrary<SagaDefinition> = fc
  .integer({ min: 2, max: 5 })
  .chain((n) =>
    fc.array(fc.boolean(), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => staged(n, cuts)),
  );

const defArb: fc.Arbitrary<SagaDefinition> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(orderPlacement.definition) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 5 })
      .map((n) => ({ type: `generic-${n}`, steps: Array.from({ length: n }, (_, i) => `s${i}`) })),
  },
  {
    weight: 1,
    arbitrary: fc.constant({
      type: 'trip-like',
      steps: ['flight', 'hotel', 'car', 'payment'],
      stages: [['flight'], ['hotel', 'car'], ['payment']],
    }),
  },
  { weight: 2, arbitrary: stagedArb },
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
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('timeout' as const),
      pick: fc.nat(),
      how: fc.constantFrom(
        'deadline' as const,
        'deadline' as const,
        'queued' as const,
        'deadLetter' as const,
      ),
    }),
  },
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
    sagas: fc.array(
      fc.record({
        outcomes: fc.array(forwardArb, { minLength: def.steps.length, maxLength: def.steps.length }),
        // One step in four is skipped.
        skipped: fc.array(
          fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
          { minLength: def.steps.length, maxLength: def.steps.length },
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
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
  /** Replies or timeouts that left a sibling outstanding (a group waiting). */
  groupWaits: 0,
  postponed: 0,
  skippedSteps: 0,
  /** Sagas that compensated past a skipped step. */
  compensatedPastSkipped: 0,
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
  const largestStage = Math.max(...stagesOfState(d.state).map((st) => st.length));
  expect(d.commands.length).toBeLessThanOrEqual(largestStage);
  const outstanding = outstandingOf(d.state);
  if (isTerminal(d.state)) {
    expect(d.commands).toEqual([]);
    expect(outstanding).toEqual([]);
    expect(d.state.awaiting).toBeNull();
    expect(d.state.deadlineAt).toBeNull();
  } else {
    expect(outstanding.length).toBeGreaterThan(0);
    expect(commandRef(d.state.awaiting!)).toEqual(commandRef(outstanding[0]!));
    expect(d.state.deadlineAt).toBe(Math.min(...outstanding.map((o) => o.deadlineAt)));
    // Every command issued is outstanding, with a fresh deadline.
    for (const c of d.commands) {
      expect(outstanding.find((o) => o.step === c.step && o.action === c.action)).toMatchObject({
        ...c,
        issuedAt: now,
        deadlineAt: now + opts.stepTimeoutMs,
      });
    }
    if (d.changed && !d.deferred && largestStage === 1) {
      // Sequential: a change while not terminal always (re-)issues exactly the awaited command.
      expect(d.commands).toEqual([commandRef(d.state.awaiting!)]);
      expect(d.state.deadlineAt).toBe(now + opts.stepTimeoutMs);
    }
  }
  return { ...d, state: structuredClone(d.state) };
}

/** The stages of a saga as step names (consecutive steps with the same `stage`). */
function stagesOfState(state: SagaState): string[][] {
  const stages: string[][] = [];
  state.steps.forEach((s, i) => {
    if (i > 0 && s.stage !== undefined && s.stage === state.steps[i - 1]!.stage)
      stages[stages.length - 1]!.push(s.name);
    else stages.push([s.name]);
  });
  return stages;
}

function runScenario(sc: Scenario): SagaRun[] {
  const opts: EngineOptions = {
    stepTimeoutMs: STEP_TIMEOUT_MS,
    scheduleToStartMs: 20 * STEP_TIMEOUT_MS,
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

  sc.sagas.forEach(({ outcomes, skipped }, i) => {
    const id = `order-${i}`;
    const d = start(
      sc.def,
      id,
      now,
      opts,
      steps.filter((_, j) => skipped[j]),
    );
    runs.set(id, {
      id,
      outcomes,
      skipped,
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
    // No command of a skipped step is ever issued (neither forward nor compensation).
    expect(`${m.step} skipped: ${run.skipped[index]}`).toBe(`${m.step} skipped: false`);
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
    if (d.changed && !isTerminal(d.state) && d.commands.length === 0 && !d.deferred) seen.groupWaits += 1;
    if (d.deferred && d.changed) seen.postponed += 1;
    const givenUp = d.state.steps.filter((s) => s.status === 'COMPENSATION_FAILED');
    for (const s of givenUp) expect(s.compensationAttempts).toBe(sc.compensationMaxAttempts);
    if (!wasFailed && d.state.status === 'FAILED') {
      // FAILED only when a compensation timed out compensationMaxAttempts times (compensations never fail here),
      // once its siblings answered; the reason names the first such step in definition order.
      seen.FAILED += 1;
      expect(givenUp.length).toBeGreaterThan(0);
      expect(d.state.failedReason).toBe(
        `compensation of ${givenUp[0]!.name} did not complete after ${sc.compensationMaxAttempts} attempts`,
      );
      expect(outstandingOf(d.state)).toEqual([]);
    }
    if (wasFailed && d.changed) {
      // Only the late confirmation of a compensation given up on may move a FAILED saga (it resumes, or stays
      // FAILED while another compensation of its stage is still given up on).
      seen.resumed += 1;
      expect(event).toMatchObject({ kind: 'reply', action: 'compensate', outcome: 'SUCCEEDED' });
      if (d.state.status === 'FAILED') expect(givenUp.length).toBeGreaterThan(0);
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
        const candidates = [...runs.values()].flatMap((r) =>
          outstandingOf(r.state).map((o) => ({ run: r, cmd: o })),
        );
        if (candidates.length === 0) break;
        const { run, cmd } = candidates[choice.pick % candidates.length]!;
        let event: SagaEvent;
        if (choice.how === 'deadLetter') {
          event = { kind: 'timeout', ...commandRef(cmd), cause: 'deadLetter' };
        } else {
          now = Math.max(now, cmd.deadlineAt);
          event = {
            kind: 'timeout',
            ...commandRef(cmd),
            cause: 'deadline',
            ...(choice.how === 'queued' ? { queued: true } : {}),
          };
        }
        if (event.action === 'forward') seen.forwardTimeouts += 1;
        timeoutsSent.push({ sagaId: run.id, event });
        orchestrate(run.id, event);
        break;
      }
      case 'replayTimeout': {
        if (timeoutsSent.length === 0) break;
        const old = timeoutsSent[choice.pick % timeoutsSent.length]!;
        const run = runs.get(old.sagaId)!;
        const before = run.state.version;
        now += STEP_TIMEOUT_MS; // even long overdue, an old timeout is stale...
        const stillOutstanding = outstandingOf(run.state).some(
          (o) =>
            o.step === old.event.step && o.action === old.event.action && o.attempt === old.event.attempt,
        );
        orchestrate(old.sagaId, old.event);
        // ...unless it was only a postponement (not consumed: the same timeout may apply later).
        if (!stillOutstanding) expect(run.state.version).toBe(before);
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
    const { state, effects, outcomes, skipped } = run;
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
    // Skipped steps keep their status and have no effect, whatever was drawn for them.
    state.steps.forEach((s, i) => {
      expect(s.status === 'SKIPPED').toBe(skipped[i]);
      if (skipped[i]) expect(effects[i]).toMatchObject({ applied: 0, forwardSeen: false, tombstone: false });
    });
    seen.skippedSteps += skipped.filter(Boolean).length;
    const stages = stagesOf(sc.def).map((st) => st.map((name) => steps.indexOf(name)));
    // From the answers alone (a skipped step's never counts): the first stage with a failure, and its first
    // failure in definition order.
    const fails = (i: number) => !skipped[i] && outcomes[i]!.outcome === 'FAILED';
    const failingStage = stages.find((st) => st.some(fails));
    const firstFailure = failingStage?.find(fails) ?? -1;
    const timedOutForward = state.history.some((h) => h.type === 'STEP_TIMED_OUT');
    const ended = (i: number) =>
      state.history.some(
        (h) => h.step === steps[i] && (h.type === 'STEP_FAILED' || h.type === 'STEP_TIMED_OUT'),
      );

    switch (state.status) {
      case 'SUCCEEDED':
        expect(firstFailure).toBe(-1);
        expect(timedOutForward).toBe(false);
        effects.forEach((e, i) => {
          if (!skipped[i]) expect(e).toMatchObject({ applied: 1, undone: 0, tombstone: false });
        });
        expect(state.steps.every((s) => s.status === 'SUCCEEDED' || s.status === 'SKIPPED')).toBe(true);
        break;
      case 'ABORTED':
        // Net zero: every applied effect was compensated exactly once.
        effects.forEach((e) => expect(e.applied - e.undone).toBe(0));
        state.steps.forEach((s) =>
          expect(['COMPENSATED', 'FAILED', 'PENDING', 'SKIPPED']).toContain(s.status),
        );
        if (
          state.steps.some(
            (s, i) =>
              s.status === 'SKIPPED' && state.steps.slice(0, i).some((p) => p.status === 'COMPENSATED'),
          )
        )
          seen.compensatedPastSkipped += 1;
        {
          // The first stage where a step failed or timed out; its first such step (definition order) gives the
          // reason; no later stage ever started.
          const k = stages.findIndex((st) => st.some(ended));
          expect(k).toBeGreaterThanOrEqual(0);
          const first = stages[k]!.find(ended)!;
          const drawn = outcomes[first]!;
          const timedOut = state.history.some((h) => h.step === steps[first] && h.type === 'STEP_TIMED_OUT');
          expect(state.failureReason).toBe(
            timedOut ? 'STEP_TIMEOUT' : drawn.outcome === 'FAILED' ? drawn.reason : 'unreachable',
          );
          if (!timedOutForward) expect(state.steps[first]!.status).toBe('FAILED');
          for (const later of stages.slice(k + 1).flat()) expect(run.forwardsIssued[later]).toBe(0);
          // Every step FAILED drew a business failure.
          state.steps.forEach((s, i) => {
            if (s.status === 'FAILED') expect(outcomes[i]!.outcome).toBe('FAILED');
          });
        }
        break;
      case 'FAILED':
        // A saga is FAILED only after a compensation timed out compensationMaxAttempts times (checked at the
        // transition); here no message is lost, so that compensation's reply always arrives later and resumes it.
        throw new Error(
          `saga ${run.id} left FAILED although its compensation was confirmed: ${state.failedReason}`,
        );
      case 'STARTED':
      case 'COMPENSATING':
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
  return [...runs.values()];
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
    expect(seen.groupWaits).toBeGreaterThan(0);
    expect(seen.postponed).toBeGreaterThan(0);
    expect(seen.skippedSteps).toBeGreaterThan(0);
    expect(seen.compensatedPastSkipped).toBeGreaterThan(0);
  });

  it('the same answers and skips give the same outcome for the sequential and the grouped variant of the same steps', () => {
    const deliveries = fc.array(
      fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean() }),
      { maxLength: RANDOM_CHOICES },
    );
    const arb = stagedArb.chain((def) =>
      fc.record({
        def: fc.constant(def),
        outcomes: fc.array(forwardArb, { minLength: def.steps.length, maxLength: def.steps.length }),
        skipped: fc.array(
          fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
          { minLength: def.steps.length, maxLength: def.steps.length },
        ),
        sequentialChoices: deliveries,
        groupedChoices: deliveries,
      }),
    );
    fc.assert(
      fc.property(arb, ({ def, outcomes, skipped, sequentialChoices, groupedChoices }) => {
        const run = (d: SagaDefinition, choices: Choice[]) =>
          runScenario({ def: d, compensationMaxAttempts: 3, sagas: [{ outcomes, skipped }], choices })[0]!
            .state;
        const sequential = run({ type: def.type, steps: def.steps }, sequentialChoices);
        const grouped = run(def, groupedChoices);
        expect(grouped.status).toBe(sequential.status);
        expect(grouped.failureReason).toBe(sequential.failureReason);
        const compensated = (st: SagaState) =>
          st.steps.filter((x) => x.status === 'COMPENSATED').map((x) => x.name);
        // The same steps are compensated — plus, in the grouped variant, the members of the failing stage after
        // the failure that succeeded (they ran alongside it; the sequential variant never started them). Skipped
        // steps neither fail nor run.
        const drawn = (name: string) => {
          const i = def.steps.indexOf(name);
          return skipped[i] ? 'SKIPPED' : outcomes[i]!.outcome;
        };
        const failing = stagesOf(def).find((st) => st.some((name) => drawn(name) === 'FAILED'));
        const first = failing?.find((name) => drawn(name) === 'FAILED');
        const alongside = (failing ?? []).filter(
          (name) =>
            first !== undefined &&
            def.steps.indexOf(name) > def.steps.indexOf(first) &&
            drawn(name) === 'SUCCEEDED',
        );
        expect(new Set(compensated(grouped))).toEqual(new Set([...compensated(sequential), ...alongside]));
      }),
      { numRuns: 200 },
    );
  });

  it('a saga with no timeouts and no failures succeeds under any delivery order, duplicates and skip set', () => {
    const noTimeouts = fc.array(
      fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean() }),
      { maxLength: RANDOM_CHOICES },
    );
    const def = orderPlacement.definition;
    const skips = fc.array(fc.boolean(), { minLength: def.steps.length, maxLength: def.steps.length });
    fc.assert(
      fc.property(fc.array(skips, { minLength: 1, maxLength: 3 }), noTimeouts, (skipSets, choices) => {
        const sagas = skipSets.map((skipped): SagaSpec => ({
          outcomes: def.steps.map((): Forward => ({ outcome: 'SUCCEEDED' })),
          skipped,
        }));
        runScenario({ def, compensationMaxAttempts: 3, sagas, choices });
      }),
      { numRuns: 100 },
    );
  });
});
