/**
 * The pure saga engine, table-driven over every path of the order-placement definition (credit → inventory →
 * payment) and over generic definitions of 1 and 5 steps. No I/O.
 *
 * Every decide() call goes through `Saga.apply`, which checks on each event that the input state is not mutated
 * (it is deep-frozen and compared with a snapshot), that `changed` matches the version bump, and that
 * deadlineAt/awaiting/currentStep are consistent with the status.
 */
import { commandRef, decide, isTerminal, start } from '../../shared/runtime/engine/engine';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import type {
  Decision,
  EngineOptions,
  HistoryEntry,
  ReplyOutcome,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
  StepAction,
  StepStatus,
} from '../../shared/runtime/engine/types';

const OPTS: EngineOptions = { stepTimeoutMs: 30_000, scheduleToStartMs: 600_000, compensationMaxAttempts: 3 };
const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const ORDER = orderPlacement.definition;
const ONE: SagaDefinition = { type: 'one-step', steps: ['only'] };
const FIVE: SagaDefinition = { type: 'five-steps', steps: ['a', 'b', 'c', 'd', 'e'] };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Checks the invariants that hold for every state the engine returns. */
function checkShape(state: SagaState, opts: EngineOptions): void {
  if (isTerminal(state)) {
    expect(state.awaiting).toBeNull();
    expect(state.deadlineAt).toBeNull();
    expect(state.currentStep).toBeNull();
  } else {
    expect(state.awaiting).not.toBeNull();
    expect(state.currentStep).toBe(state.awaiting!.step);
    expect(typeof state.deadlineAt).toBe('number');
    const a = state.awaiting!;
    if (!a.postponed) {
      const last = state.history[state.history.length - 1]!;
      // The deadline is "when the awaited command was issued" + the step timeout...
      expect(a.issuedAt).toBe(Date.parse(last.at));
      expect(state.deadlineAt).toBe(a.issuedAt! + opts.stepTimeoutMs);
    } else {
      // ...unless it was postponed (queued behind other work): never beyond the schedule-to-start bound.
      expect(state.deadlineAt).toBeLessThanOrEqual(a.issuedAt! + opts.scheduleToStartMs);
    }
  }
  if (state.status === 'SUCCEEDED') expect(state.failureReason).toBeNull();
  if (state.status === 'ABORTED') expect(state.failureReason).not.toBeNull();
  if (state.status === 'FAILED') expect(state.failedReason).not.toBeNull();
  else expect(state.failedReason).toBeNull();
}

/** A saga driven through the engine, with the clock and the commands it issued. */
class Saga {
  state: SagaState;
  now: number;
  readonly issued: SagaCommand[] = [];

  constructor(
    readonly def: SagaDefinition,
    readonly opts: EngineOptions = OPTS,
    readonly sagaId = 'order-1',
  ) {
    this.now = T0;
    const d = start(def, sagaId, this.now, opts);
    expect(d.changed).toBe(true);
    checkShape(d.state, opts);
    this.state = d.state;
    this.issued.push(...d.commands);
  }

  /** Applies an event; asserts purity and consistency; keeps the new state. */
  apply(event: SagaEvent, now = this.now): Decision {
    this.now = now;
    const before = structuredClone(this.state);
    const input = deepFreeze(structuredClone(this.state));
    const d = decide(input, event, now, this.opts);
    expect(input).toEqual(before);
    if (d.changed) {
      expect(d.state).not.toBe(input);
      expect(d.state.version).toBe(before.version + 1);
      expect(d.ignored).toBeUndefined();
    } else {
      expect(d.commands).toEqual([]);
      expect(d.state).toEqual(before);
      expect(typeof d.ignored).toBe('string');
    }
    checkShape(d.state, this.opts);
    this.state = structuredClone(d.state);
    this.issued.push(...d.commands);
    return d;
  }

  reply(step: string, action: StepAction, outcome: ReplyOutcome, reason?: string, attempt = 1): Decision {
    return this.apply({ kind: 'reply', step, action, attempt, outcome, reason }, this.now + 10);
  }

  /** Advances the clock to the deadline and times out what the saga awaits (what the sweeper does). */
  timeout(): Decision {
    const a = this.state.awaiting!;
    expect(a).not.toBeNull();
    return this.apply({ kind: 'timeout', ...commandRef(a), cause: 'deadline' }, this.state.deadlineAt!);
  }

  /** Answers the awaited command with `outcome`. */
  answer(outcome: ReplyOutcome = 'SUCCEEDED', reason?: string): Decision {
    const a = this.state.awaiting!;
    return this.reply(a.step, a.action, outcome, reason, a.attempt);
  }

  status(step: string): StepStatus {
    return this.state.steps.find((s) => s.name === step)!.status;
  }

  historyTypes(): string[] {
    return this.state.history.map(label);
  }
}

function label(h: HistoryEntry): string {
  return [h.type, h.step, h.reason].filter((x) => x !== undefined).join(' ');
}

function fwd(step: string, attempt = 1): SagaCommand {
  return { step, action: 'forward', attempt };
}
function comp(step: string, attempt = 1): SagaCommand {
  return { step, action: 'compensate', attempt };
}

/** Runs the forward steps before `index` to success. */
function succeedUpTo(saga: Saga, index: number): void {
  for (let i = 0; i < index; i++) {
    expect(commandRef(saga.state.awaiting!)).toEqual({
      step: saga.def.steps[i],
      action: 'forward',
      attempt: 1,
    });
    saga.answer('SUCCEEDED');
  }
}

/** Answers every compensation; returns `first` and the commands issued along the way. */
function compensateAll(saga: Saga, first: SagaCommand[] = []): SagaCommand[] {
  const seen: SagaCommand[] = [...first];
  while (!isTerminal(saga.state)) {
    expect(saga.state.awaiting!.action).toBe('compensate');
    seen.push(...saga.answer('SUCCEEDED').commands);
  }
  return seen;
}

describe('start', () => {
  it('issues the first forward command and awaits it', () => {
    const d = start(ORDER, 'o-1', T0, OPTS);
    expect(d.commands).toEqual([fwd('credit')]);
    expect(d.state).toMatchObject({
      sagaId: 'o-1',
      type: 'order-placement',
      status: 'STARTED',
      currentStep: 'credit',
      failureReason: null,
      failedReason: null,
      awaiting: { step: 'credit', action: 'forward', attempt: 1 },
      deadlineAt: T0 + OPTS.stepTimeoutMs,
      version: 1,
    });
    expect(d.state.steps).toEqual([
      { name: 'credit', status: 'RUNNING', attempts: 1, compensationAttempts: 0 },
      { name: 'inventory', status: 'PENDING', attempts: 0, compensationAttempts: 0 },
      { name: 'payment', status: 'PENDING', attempts: 0, compensationAttempts: 0 },
    ]);
    expect(d.state.history).toEqual([
      { at: iso(T0), type: 'SAGA_STARTED' },
      { at: iso(T0), type: 'STEP_STARTED', step: 'credit' },
    ]);
  });

  it('uses the step timeout of the options', () => {
    const d = start(ORDER, 'o-1', T0, { ...OPTS, stepTimeoutMs: 1234 });
    expect(d.state.deadlineAt).toBe(T0 + 1234);
  });

  it('refuses a definition without steps', () => {
    expect(() => start({ type: 'empty', steps: [] }, 'o-1', T0, OPTS)).toThrow(/no steps/);
  });
});

describe.each([
  ['order-placement', ORDER],
  ['a generic 1-step saga', ONE],
  ['a generic 5-step saga', FIVE],
])('%s', (_name, def) => {
  const steps = def.steps;

  it('all steps succeed → SUCCEEDED, no compensation', () => {
    const saga = new Saga(def);
    for (let i = 0; i < steps.length; i++) {
      expect(saga.state.status).toBe('STARTED');
      expect(commandRef(saga.state.awaiting!)).toEqual({ step: steps[i], action: 'forward', attempt: 1 });
      const d = saga.answer('SUCCEEDED');
      expect(d.changed).toBe(true);
      expect(d.commands).toEqual(i + 1 < steps.length ? [fwd(steps[i + 1]!)] : []);
    }
    expect(saga.issued).toEqual(steps.map((s) => fwd(s)));
    expect(saga.state.status).toBe('SUCCEEDED');
    expect(saga.state.failureReason).toBeNull();
    expect(saga.state.steps).toEqual(
      steps.map((name) => ({ name, status: 'SUCCEEDED', attempts: 1, compensationAttempts: 0 })),
    );
    expect(saga.historyTypes()).toEqual([
      'SAGA_STARTED',
      ...steps.flatMap((s) => [`STEP_STARTED ${s}`, `STEP_SUCCEEDED ${s}`]),
      'SAGA_SUCCEEDED',
    ]);
    expect(saga.state.version).toBe(1 + steps.length);
    expect(saga.state.history[saga.state.history.length - 1]!.at).toBe(iso(saga.now));
  });

  it.each(steps.map((s, i) => [s, i] as const))(
    'business failure of %s → compensates the earlier steps in reverse, ABORTED with the reason',
    (step, index) => {
      const saga = new Saga(def);
      succeedUpTo(saga, index);
      const failed = saga.answer('FAILED', 'SOME_REASON');
      const earlier = steps.slice(0, index).reverse();
      expect(failed.commands).toEqual(earlier.length > 0 ? [comp(earlier[0]!)] : []);
      const compensations = compensateAll(saga, failed.commands);
      expect(compensations).toEqual(earlier.map((s) => comp(s)));
      expect(saga.state.status).toBe('ABORTED');
      expect(saga.state.failureReason).toBe('SOME_REASON');
      steps.forEach((s, i) => {
        const expected: StepStatus = i < index ? 'COMPENSATED' : i === index ? 'FAILED' : 'PENDING';
        expect(saga.state.steps[i]).toEqual({
          name: s,
          status: expected,
          attempts: i < index ? 2 : i === index ? 1 : 0,
          compensationAttempts: i < index ? 1 : 0,
        });
      });
      expect(saga.historyTypes()).toEqual([
        'SAGA_STARTED',
        ...steps.slice(0, index).flatMap((s) => [`STEP_STARTED ${s}`, `STEP_SUCCEEDED ${s}`]),
        `STEP_STARTED ${step}`,
        `STEP_FAILED ${step} SOME_REASON`,
        'COMPENSATION_STARTED SOME_REASON',
        ...earlier.flatMap((s) => [`STEP_COMPENSATING ${s}`, `STEP_COMPENSATED ${s}`]),
        'SAGA_ABORTED SOME_REASON',
      ]);
      // Nothing forward was issued after the failure.
      expect(saga.issued.filter((c) => c.action === 'forward')).toEqual(
        steps.slice(0, index + 1).map((s) => fwd(s)),
      );
    },
  );

  it.each(steps.map((s, i) => [s, i] as const))(
    'timeout of forward %s → compensates it too, then the earlier ones; ABORTED STEP_TIMEOUT',
    (step, index) => {
      const saga = new Saga(def);
      succeedUpTo(saga, index);
      const timedOut = saga.timeout();
      expect(timedOut.changed).toBe(true);
      expect(timedOut.commands).toEqual([comp(step)]);
      expect(saga.status(step)).toBe('COMPENSATING');
      expect(saga.state.status).toBe('COMPENSATING');
      expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
      // The forward's late reply is ignored: the step is being compensated.
      const late = saga.reply(step, 'forward', 'SUCCEEDED');
      expect(late.changed).toBe(false);
      const compensations = compensateAll(saga, timedOut.commands);
      const expectedOrder = steps.slice(0, index + 1).reverse();
      expect(compensations).toEqual(expectedOrder.map((s) => comp(s)));
      expect(saga.state.status).toBe('ABORTED');
      expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
      steps.forEach((s, i) => {
        expect(saga.state.steps[i]).toEqual({
          name: s,
          status: i <= index ? 'COMPENSATED' : 'PENDING',
          attempts: i <= index ? 2 : 0,
          compensationAttempts: i <= index ? 1 : 0,
        });
      });
      expect(saga.historyTypes()).toEqual([
        'SAGA_STARTED',
        ...steps.slice(0, index).flatMap((s) => [`STEP_STARTED ${s}`, `STEP_SUCCEEDED ${s}`]),
        `STEP_STARTED ${step}`,
        `STEP_TIMED_OUT ${step} STEP_TIMEOUT`,
        'COMPENSATION_STARTED STEP_TIMEOUT',
        ...expectedOrder.flatMap((s) => [`STEP_COMPENSATING ${s}`, `STEP_COMPENSATED ${s}`]),
        'SAGA_ABORTED STEP_TIMEOUT',
      ]);
    },
  );

  it.each([1, 2, 3, 5])(
    'a compensation that keeps timing out is re-issued up to %i attempts, then FAILED',
    (max) => {
      const opts = { ...OPTS, compensationMaxAttempts: max };
      const saga = new Saga(def, opts);
      // Time out the last step: it is the first to be compensated.
      const last = steps[steps.length - 1]!;
      succeedUpTo(saga, steps.length - 1);
      saga.timeout();
      for (let attempt = 1; attempt < max; attempt++) {
        expect(commandRef(saga.state.awaiting!)).toEqual({ step: last, action: 'compensate', attempt });
        // A timeout one ms early is not due.
        expect(
          saga.apply(
            { kind: 'timeout', ...commandRef(saga.state.awaiting!), cause: 'deadline' },
            saga.state.deadlineAt! - 1,
          ).changed,
        ).toBe(false);
        const d = saga.timeout();
        expect(d.commands).toEqual([comp(last, attempt + 1)]);
        expect(saga.state.deadlineAt).toBe(saga.now + opts.stepTimeoutMs);
        expect(saga.state.steps.find((s) => s.name === last)).toMatchObject({
          status: 'COMPENSATING',
          compensationAttempts: attempt + 1,
          attempts: 1 + attempt + 1,
        });
        expect(saga.state.history[saga.state.history.length - 1]).toEqual({
          at: iso(saga.now),
          type: 'COMPENSATION_RETRIED',
          step: last,
          reason: 'STEP_TIMEOUT',
        });
        expect(saga.state.status).toBe('COMPENSATING');
      }
      expect(commandRef(saga.state.awaiting!)).toEqual({ step: last, action: 'compensate', attempt: max });
      const final = saga.timeout();
      expect(final.commands).toEqual([]);
      expect(saga.state.status).toBe('FAILED');
      expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
      expect(saga.state.failedReason).toBe(`compensation of ${last} did not complete after ${max} attempts`);
      expect(saga.state.steps.find((s) => s.name === last)).toEqual({
        name: last,
        status: 'COMPENSATION_FAILED',
        attempts: 1 + max,
        compensationAttempts: max,
      });
      // The earlier steps were never compensated: an operator is needed.
      steps.slice(0, -1).forEach((s) => expect(saga.status(s)).toBe('SUCCEEDED'));
      expect(saga.issued.filter((c) => c.action === 'compensate')).toEqual(
        Array.from({ length: max }, (_, i) => comp(last, i + 1)),
      );
      expect(saga.historyTypes().slice(-2)).toEqual([
        `COMPENSATION_FAILED ${last} ${saga.state.failedReason}`,
        `SAGA_FAILED ${saga.state.failedReason}`,
      ]);
      // After FAILED, timeouts and replies that do not confirm the failed compensation are ignored.
      expect(
        saga.apply(
          { kind: 'timeout', step: last, action: 'compensate', attempt: max, cause: 'deadline' },
          saga.now + 1,
        ).changed,
      ).toBe(false);
      expect(saga.reply(last, 'forward', 'SUCCEEDED').changed).toBe(false);
      expect(saga.reply(last, 'compensate', 'FAILED', 'STILL_BROKEN', max).changed).toBe(false);
    },
  );
});

describe('order-placement business failures', () => {
  it.each([
    ['credit', 'UNKNOWN_CUSTOMER', []],
    ['credit', 'CREDIT_LIMIT_EXCEEDED', []],
    ['inventory', 'UNKNOWN_SKU', ['credit']],
    ['inventory', 'OUT_OF_STOCK', ['credit']],
    ['payment', 'PAYMENT_DECLINED', ['inventory', 'credit']],
  ] as const)('%s FAILED %s → compensates %j, ABORTED with the reason', (step, reason, compensated) => {
    const saga = new Saga(ORDER);
    succeedUpTo(saga, ORDER.steps.indexOf(step));
    const failed = saga.reply(step, 'forward', 'FAILED', reason);
    expect(saga.state.failureReason).toBe(reason);
    const compensations = compensateAll(saga, failed.commands);
    expect(compensations).toEqual(compensated.map((s) => comp(s)));
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.state.failureReason).toBe(reason);
    expect(saga.status(step)).toBe('FAILED');
    for (const s of compensated) expect(saga.status(s)).toBe('COMPENSATED');
    expect(saga.state.history[saga.state.history.length - 1]).toEqual({
      at: iso(saga.now),
      type: 'SAGA_ABORTED',
      reason,
    });
  });

  it('a FAILED reply without a reason uses the outcome as the reason', () => {
    const saga = new Saga(ORDER);
    saga.answer('FAILED');
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.state.failureReason).toBe('FAILED');
  });

  it('a REFUSED forward reply fails the step like a business failure', () => {
    const saga = new Saga(ORDER);
    succeedUpTo(saga, 1);
    const d = saga.answer('REFUSED', 'COMPENSATED_BEFORE_FORWARD');
    expect(d.commands).toEqual([comp('credit')]);
    expect(saga.state.failureReason).toBe('COMPENSATED_BEFORE_FORWARD');
  });
});

describe('compensation replies', () => {
  /** Saga with credit + inventory done and payment declined: compensating inventory (attempt 1). */
  function declinedPayment(opts = OPTS): Saga {
    const saga = new Saga(ORDER, opts);
    succeedUpTo(saga, 2);
    saga.answer('FAILED', 'PAYMENT_DECLINED');
    expect(commandRef(saga.state.awaiting!)).toEqual({ step: 'inventory', action: 'compensate', attempt: 1 });
    return saga;
  }

  it.each([
    ['FAILED', 'STORE_DOWN', 'compensation of inventory failed: STORE_DOWN'],
    ['FAILED', undefined, 'compensation of inventory failed: FAILED'],
    ['REFUSED', undefined, 'compensation of inventory failed: REFUSED'],
  ] as const)('a compensation %s reply (%s) → FAILED with failedReason', (outcome, reason, failedReason) => {
    const saga = declinedPayment();
    const d = saga.answer(outcome, reason);
    expect(d.commands).toEqual([]);
    expect(saga.state.status).toBe('FAILED');
    expect(saga.state.failedReason).toBe(failedReason);
    // The business reason is kept.
    expect(saga.state.failureReason).toBe('PAYMENT_DECLINED');
    expect(saga.status('inventory')).toBe('COMPENSATION_FAILED');
    expect(saga.status('credit')).toBe('SUCCEEDED');
    expect(saga.historyTypes().slice(-2)).toEqual([
      `COMPENSATION_FAILED inventory ${failedReason}`,
      `SAGA_FAILED ${failedReason}`,
    ]);
  });

  it('a re-issued compensation is settled by the reply to an earlier attempt', () => {
    const saga = declinedPayment();
    saga.timeout();
    expect(commandRef(saga.state.awaiting!)).toEqual({ step: 'inventory', action: 'compensate', attempt: 2 });
    const d = saga.reply('inventory', 'compensate', 'SUCCEEDED', undefined, 1);
    expect(d.changed).toBe(true);
    expect(d.commands).toEqual([comp('credit')]);
    // The reply to attempt 2 arriving afterwards is a duplicate.
    expect(saga.reply('inventory', 'compensate', 'SUCCEEDED', undefined, 2).changed).toBe(false);
    saga.answer('SUCCEEDED');
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.state.steps.find((s) => s.name === 'inventory')).toEqual({
      name: 'inventory',
      status: 'COMPENSATED',
      attempts: 3,
      compensationAttempts: 2,
    });
  });

  it('the compensation attempt counter restarts for each step', () => {
    const saga = declinedPayment();
    saga.timeout(); // inventory attempt 2
    saga.answer('SUCCEEDED'); // inventory compensated
    expect(commandRef(saga.state.awaiting!)).toEqual({ step: 'credit', action: 'compensate', attempt: 1 });
    saga.timeout();
    saga.timeout();
    expect(commandRef(saga.state.awaiting!)).toEqual({ step: 'credit', action: 'compensate', attempt: 3 });
    saga.timeout();
    expect(saga.state.status).toBe('FAILED');
    expect(saga.state.failedReason).toBe('compensation of credit did not complete after 3 attempts');
    expect(saga.status('inventory')).toBe('COMPENSATED');
  });
});

describe('events that change nothing', () => {
  interface Case {
    name: string;
    /** Brings a fresh saga into the state the event is applied to. */
    setup(saga: Saga): void;
    event(saga: Saga): SagaEvent;
    now?(saga: Saga): number;
  }
  const reply = (step: string, action: StepAction, outcome: ReplyOutcome = 'SUCCEEDED', attempt = 1) =>
    ({ kind: 'reply', step, action, attempt, outcome }) as const;
  const timeout = (step: string, action: StepAction, attempt = 1) =>
    ({ kind: 'timeout', step, action, attempt, cause: 'deadline' }) as const;

  const toCompensatingInventory = (saga: Saga) => {
    succeedUpTo(saga, 2);
    saga.answer('FAILED', 'PAYMENT_DECLINED');
  };
  const cases: Case[] = [
    {
      name: 'a duplicate forward reply',
      setup: (s) => succeedUpTo(s, 1),
      event: () => reply('credit', 'forward'),
    },
    {
      name: 'a duplicate forward reply with another outcome',
      setup: (s) => succeedUpTo(s, 1),
      event: () => reply('credit', 'forward', 'FAILED'),
    },
    { name: 'a reply for another step', setup: () => {}, event: () => reply('payment', 'forward') },
    { name: 'a reply for an unknown step', setup: () => {}, event: () => reply('shipping', 'forward') },
    { name: 'a reply for the other action', setup: () => {}, event: () => reply('credit', 'compensate') },
    {
      name: 'a forward reply to another attempt',
      setup: () => {},
      event: () => reply('credit', 'forward', 'SUCCEEDED', 2),
    },
    {
      name: 'a late forward reply of the step being compensated',
      setup: toCompensatingInventory,
      event: () => reply('inventory', 'forward', 'SUCCEEDED'),
    },
    {
      name: 'a late forward reply of the failed step',
      setup: toCompensatingInventory,
      event: () => reply('payment', 'forward', 'SUCCEEDED'),
    },
    {
      name: 'a compensation reply for a step not being compensated',
      setup: toCompensatingInventory,
      event: () => reply('credit', 'compensate'),
    },
    {
      name: 'a reply after SUCCEEDED',
      setup: (s) => succeedUpTo(s, 3),
      event: () => reply('payment', 'forward', 'FAILED'),
    },
    {
      name: 'a compensation reply after SUCCEEDED',
      setup: (s) => succeedUpTo(s, 3),
      event: () => reply('payment', 'compensate'),
    },
    {
      name: 'a reply after ABORTED',
      setup: (s) => {
        toCompensatingInventory(s);
        compensateAll(s);
      },
      event: () => reply('credit', 'compensate'),
    },
    {
      name: 'a FAILED compensation reply after FAILED',
      setup: (s) => {
        toCompensatingInventory(s);
        s.answer('FAILED', 'BOOM');
      },
      event: () => reply('inventory', 'compensate', 'FAILED'),
    },
    {
      name: 'a compensation reply of a step not given up on, after FAILED',
      setup: (s) => {
        toCompensatingInventory(s);
        s.answer('FAILED', 'BOOM');
      },
      event: () => reply('credit', 'compensate'),
    },
    {
      name: 'a forward reply after FAILED',
      setup: (s) => {
        toCompensatingInventory(s);
        s.answer('FAILED', 'BOOM');
      },
      event: () => reply('payment', 'forward'),
    },
    {
      name: 'a timeout after SUCCEEDED',
      setup: (s) => succeedUpTo(s, 3),
      event: () => timeout('payment', 'forward'),
      now: (s) => s.now + 10 * OPTS.stepTimeoutMs,
    },
    {
      name: 'a timeout after ABORTED',
      setup: (s) => {
        s.answer('FAILED', 'UNKNOWN_CUSTOMER');
      },
      event: () => timeout('credit', 'forward'),
      now: (s) => s.now + 10 * OPTS.stepTimeoutMs,
    },
    {
      name: 'a forward timeout not yet due (now = deadlineAt - 1)',
      setup: () => {},
      event: (s) => timeout('credit', 'forward', s.state.awaiting!.attempt),
      now: (s) => s.state.deadlineAt! - 1,
    },
    {
      name: 'a compensation timeout not yet due',
      setup: toCompensatingInventory,
      event: () => timeout('inventory', 'compensate'),
      now: (s) => s.state.deadlineAt! - 1,
    },
    {
      name: 'a timeout for a stale compensation attempt',
      setup: (s) => {
        toCompensatingInventory(s);
        s.timeout();
        expect(s.state.awaiting!.attempt).toBe(2);
      },
      event: () => timeout('inventory', 'compensate', 1),
      now: (s) => s.state.deadlineAt! + 1,
    },
    {
      name: 'a timeout for a future compensation attempt',
      setup: toCompensatingInventory,
      event: () => timeout('inventory', 'compensate', 2),
      now: (s) => s.state.deadlineAt! + 1,
    },
    {
      name: 'a timeout for a stale forward attempt',
      setup: () => {},
      event: () => timeout('credit', 'forward', 2),
      now: (s) => s.state.deadlineAt! + 1,
    },
    {
      name: 'a timeout for a step not awaited',
      setup: (s) => succeedUpTo(s, 1),
      event: () => timeout('credit', 'forward'),
      now: (s) => s.state.deadlineAt! + 1,
    },
    {
      name: 'a forward timeout while compensating that step',
      setup: (s) => {
        succeedUpTo(s, 1);
        s.timeout();
      },
      event: () => timeout('inventory', 'forward'),
      now: (s) => s.state.deadlineAt! + 1,
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const saga = new Saga(ORDER);
    c.setup(saga);
    const before = structuredClone(saga.state);
    const d = saga.apply(c.event(saga), c.now ? c.now(saga) : saga.now + 5);
    expect(d.changed).toBe(false);
    expect(d.commands).toEqual([]);
    expect(d.state).toEqual(before);
    expect(d.ignored).toEqual(expect.any(String));
  });

  it('a timeout exactly at deadlineAt is due', () => {
    const saga = new Saga(ORDER);
    const d = saga.apply(
      { kind: 'timeout', step: 'credit', action: 'forward', attempt: 1, cause: 'deadline' },
      saga.state.deadlineAt!,
    );
    expect(d.changed).toBe(true);
    expect(d.commands).toEqual([comp('credit')]);
  });

  it('every duplicate of every event along a full run is ignored', () => {
    // Replays each event of a run (payment declined, one compensation retry) right after it was applied.
    const saga = new Saga(ORDER);
    const events: SagaEvent[] = [];
    const step = (e: SagaEvent, now: number) => {
      saga.apply(e, now);
      events.push(e);
      for (const old of events) {
        expect(saga.apply(old, now).changed).toBe(false);
      }
    };
    step({ kind: 'reply', step: 'credit', action: 'forward', attempt: 1, outcome: 'SUCCEEDED' }, T0 + 1);
    step({ kind: 'reply', step: 'inventory', action: 'forward', attempt: 1, outcome: 'SUCCEEDED' }, T0 + 2);
    step(
      {
        kind: 'reply',
        step: 'payment',
        action: 'forward',
        attempt: 1,
        outcome: 'FAILED',
        reason: 'PAYMENT_DECLINED',
      },
      T0 + 3,
    );
    step(
      { kind: 'timeout', step: 'inventory', action: 'compensate', attempt: 1, cause: 'deadline' },
      T0 + 3 + OPTS.stepTimeoutMs,
    );
    step(
      { kind: 'reply', step: 'inventory', action: 'compensate', attempt: 2, outcome: 'SUCCEEDED' },
      T0 + 4 + OPTS.stepTimeoutMs,
    );
    step(
      { kind: 'reply', step: 'credit', action: 'compensate', attempt: 1, outcome: 'SUCCEEDED' },
      T0 + 5 + OPTS.stepTimeoutMs,
    );
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.state.failureReason).toBe('PAYMENT_DECLINED');
    expect(saga.state.version).toBe(1 + events.length);
  });
});

describe('a FAILED saga resumes when the compensation it gave up on is confirmed', () => {
  /** credit + inventory done, payment declined, inventory's compensation timed out `max` times → FAILED. */
  function exhausted(max = 2): Saga {
    const saga = new Saga(ORDER, { ...OPTS, compensationMaxAttempts: max });
    succeedUpTo(saga, 2);
    saga.answer('FAILED', 'PAYMENT_DECLINED');
    for (let i = 0; i < max; i++) saga.timeout();
    expect(saga.state.status).toBe('FAILED');
    return saga;
  }

  it.each([1, 2])('a late SUCCEEDED reply to attempt %i resumes compensation, then ABORTED', (attempt) => {
    const saga = exhausted(2);
    const d = saga.reply('inventory', 'compensate', 'SUCCEEDED', undefined, attempt);
    expect(d.changed).toBe(true);
    expect(d.commands).toEqual([comp('credit')]);
    expect(saga.state.status).toBe('COMPENSATING');
    expect(saga.state.failedReason).toBeNull();
    expect(saga.state.failureReason).toBe('PAYMENT_DECLINED');
    expect(saga.status('inventory')).toBe('COMPENSATED');
    expect(saga.historyTypes().slice(-4)).toEqual([
      'SAGA_FAILED compensation of inventory did not complete after 2 attempts',
      'SAGA_RESUMED inventory',
      'STEP_COMPENSATED inventory',
      'STEP_COMPENSATING credit',
    ]);
    // The duplicate of the confirming reply changes nothing.
    expect(saga.reply('inventory', 'compensate', 'SUCCEEDED', undefined, attempt).changed).toBe(false);
    saga.answer('SUCCEEDED');
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.state.failureReason).toBe('PAYMENT_DECLINED');
    expect(saga.state.steps.map((s) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'FAILED']);
  });

  it('resuming the first step aborts at once', () => {
    const saga = new Saga(ORDER, { ...OPTS, compensationMaxAttempts: 1 });
    saga.timeout(); // credit forward timed out → compensate credit
    saga.timeout(); // compensation timed out once → FAILED
    expect(saga.state.status).toBe('FAILED');
    const d = saga.reply('credit', 'compensate', 'SUCCEEDED');
    expect(d.commands).toEqual([]);
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
  });

  it('a saga FAILED by a FAILED compensation reply resumes on a later SUCCEEDED one (redrive)', () => {
    const saga = new Saga(ORDER);
    succeedUpTo(saga, 2);
    saga.answer('FAILED', 'PAYMENT_DECLINED');
    saga.answer('FAILED', 'STORE_DOWN');
    expect(saga.state.status).toBe('FAILED');
    expect(saga.reply('inventory', 'compensate', 'SUCCEEDED').commands).toEqual([comp('credit')]);
    saga.answer('SUCCEEDED');
    expect(saga.state.status).toBe('ABORTED');
  });

  it('a saga that resumes and gives up again is FAILED on the later step', () => {
    const saga = exhausted(1);
    saga.reply('inventory', 'compensate', 'SUCCEEDED');
    saga.timeout();
    expect(saga.state.status).toBe('FAILED');
    expect(saga.state.failedReason).toBe('compensation of credit did not complete after 1 attempts');
    expect(saga.status('inventory')).toBe('COMPENSATED');
    // A late confirmation of inventory again is now a duplicate.
    expect(saga.reply('inventory', 'compensate', 'SUCCEEDED').changed).toBe(false);
  });
});

describe('timestamps and versions', () => {
  it('history entries carry the time of the event that produced them', () => {
    const saga = new Saga(ORDER);
    saga.apply(
      { kind: 'reply', step: 'credit', action: 'forward', attempt: 1, outcome: 'SUCCEEDED' },
      T0 + 1000,
    );
    saga.apply(
      {
        kind: 'reply',
        step: 'inventory',
        action: 'forward',
        attempt: 1,
        outcome: 'FAILED',
        reason: 'OUT_OF_STOCK',
      },
      T0 + 2000,
    );
    expect(saga.state.history).toEqual([
      { at: iso(T0), type: 'SAGA_STARTED' },
      { at: iso(T0), type: 'STEP_STARTED', step: 'credit' },
      { at: iso(T0 + 1000), type: 'STEP_SUCCEEDED', step: 'credit' },
      { at: iso(T0 + 1000), type: 'STEP_STARTED', step: 'inventory' },
      { at: iso(T0 + 2000), type: 'STEP_FAILED', step: 'inventory', reason: 'OUT_OF_STOCK' },
      { at: iso(T0 + 2000), type: 'COMPENSATION_STARTED', reason: 'OUT_OF_STOCK' },
      { at: iso(T0 + 2000), type: 'STEP_COMPENSATING', step: 'credit' },
    ]);
    expect(saga.state.deadlineAt).toBe(T0 + 2000 + OPTS.stepTimeoutMs);
    expect(saga.state.version).toBe(3);
  });

  it('two sagas of one definition do not share state', () => {
    const a = start(ORDER, 'a', T0, OPTS);
    const b = start(ORDER, 'b', T0, OPTS);
    const next = decide(
      a.state,
      { kind: 'reply', step: 'credit', action: 'forward', attempt: 1, outcome: 'SUCCEEDED' },
      T0 + 1,
      OPTS,
    );
    expect(next.state.steps[0]!.status).toBe('SUCCEEDED');
    expect(a.state.steps[0]!.status).toBe('RUNNING');
    expect(b.state.steps[0]!.status).toBe('RUNNING');
    expect(b.state.sagaId).toBe('b');
  });
});

describe('queueing is not failure: queued, taken and dead-lettered commands', () => {
  const overdue = (saga: Saga, extra: Partial<Extract<SagaEvent, { kind: 'timeout' }>> = {}) =>
    saga.apply(
      { kind: 'timeout', ...commandRef(saga.state.awaiting!), cause: 'deadline', ...extra },
      Math.max(saga.now, saga.state.deadlineAt!),
    );

  it('an overdue command still queued behind other work has its deadline postponed, not timed out', () => {
    const saga = new Saga(ORDER);
    const d = overdue(saga, { queued: true });
    expect(d).toMatchObject({ changed: true, deferred: true, commands: [] });
    expect(saga.state.status).toBe('STARTED');
    expect(saga.status('credit')).toBe('RUNNING');
    expect(saga.state.deadlineAt).toBe(T0 + 2 * OPTS.stepTimeoutMs);
    expect(saga.state.awaiting).toMatchObject({ step: 'credit', issuedAt: T0, postponed: 1 });
    overdue(saga, { queued: true });
    // The next postponement is twice as long.
    expect(saga.state.deadlineAt).toBe(T0 + 4 * OPTS.stepTimeoutMs);
    // Recorded once in the history, however often it is postponed.
    expect(saga.historyTypes().filter((t) => t.startsWith('STEP_QUEUED'))).toEqual([
      'STEP_QUEUED credit PARTICIPANT_BUSY',
    ]);
    // The reply, when it comes, is applied as usual.
    expect(saga.answer().changed).toBe(true);
    expect(commandRef(saga.state.awaiting!)).toEqual(fwd('inventory'));
  });

  it('a queued command is lost once it has waited the schedule-to-start bound: STEP_TIMEOUT', () => {
    const opts = { ...OPTS, stepTimeoutMs: 1000, scheduleToStartMs: 7500 };
    const saga = new Saga(ORDER, opts);
    const deadlines: number[] = [];
    for (let i = 0; i < 10 && saga.state.status === 'STARTED'; i++) {
      overdue(saga, { queued: true });
      deadlines.push(saga.state.deadlineAt ?? -1);
    }
    // Postponed by 1 s, 2 s, then clamped to the bound T0+7500 (not T0+8000), then timed out there.
    expect(deadlines.slice(0, 3)).toEqual([T0 + 2000, T0 + 4000, T0 + 7500]);
    expect(saga.state.status).toBe('COMPENSATING');
    expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
    expect(saga.status('credit')).toBe('COMPENSATING');
    expect(saga.issued.at(-1)).toEqual({ step: 'credit', action: 'compensate', attempt: 1 });
  });

  it('a command not queued (its participant answers nothing) times out at its deadline', () => {
    const saga = new Saga(ORDER);
    const d = overdue(saga, { queued: false });
    expect(d.deferred).toBeUndefined();
    expect(saga.status('credit')).toBe('COMPENSATING');
    expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
  });

  it('a taken command has the step timeout from when it was taken', () => {
    const saga = new Saga(ORDER);
    saga.answer();
    saga.answer();
    const issued = saga.state.awaiting!.issuedAt!;
    // Taken late (it was queued): the deadline moves to takenAt + step timeout...
    const takenAt = issued + OPTS.stepTimeoutMs - 5;
    const d = overdue(saga, { startedAt: takenAt });
    expect(d.deferred).toBe(true);
    expect(saga.state.deadlineAt).toBe(takenAt + OPTS.stepTimeoutMs);
    // ...and once that has passed with no reply, the step times out (the participant took it and is not answering).
    overdue(saga, { startedAt: takenAt });
    expect(saga.status('payment')).toBe('COMPENSATING');
    expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
  });

  it('a timeout that is not due is deferred, not consumed (it may apply later)', () => {
    const saga = new Saga(ORDER);
    const d = saga.apply(
      { kind: 'timeout', ...commandRef(saga.state.awaiting!), cause: 'deadline' },
      saga.state.deadlineAt! - 1,
    );
    expect(d).toMatchObject({ changed: false, deferred: true });
  });

  it('a dead-lettered forward command times its step out at once, long before its deadline', () => {
    const saga = new Saga(ORDER);
    saga.answer();
    saga.answer();
    const d = saga.apply(
      { kind: 'timeout', step: 'payment', action: 'forward', attempt: 1, cause: 'deadLetter' },
      saga.now + 16_000,
    );
    expect(d.changed).toBe(true);
    expect(d.deferred).toBeUndefined();
    expect(d.commands).toEqual([{ step: 'payment', action: 'compensate', attempt: 1 }]);
    expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
    expect(saga.historyTypes().slice(-4)).toEqual([
      'COMMAND_DEAD_LETTERED payment MAX_DELIVERY_ATTEMPTS',
      'STEP_TIMED_OUT payment STEP_TIMEOUT',
      'COMPENSATION_STARTED STEP_TIMEOUT',
      'STEP_COMPENSATING payment',
    ]);
    // Its redelivery (or the sweeper's later timeout of the same command) changes nothing more.
    const again = saga.apply(
      { kind: 'timeout', step: 'payment', action: 'forward', attempt: 1, cause: 'deadLetter' },
      saga.now + 1,
    );
    expect(again.changed).toBe(false);
    saga.answer();
    saga.answer();
    saga.answer();
    expect(saga.state).toMatchObject({ status: 'ABORTED', failureReason: 'STEP_TIMEOUT' });
  });

  it('a dead-lettered compensation is retried like a timed-out one, then FAILED', () => {
    const other = new Saga(ORDER, { ...OPTS, compensationMaxAttempts: 2 });
    other.answer();
    other.answer('FAILED', 'OUT_OF_STOCK');
    const dead = (attempt: number) =>
      other.apply({ kind: 'timeout', step: 'credit', action: 'compensate', attempt, cause: 'deadLetter' });
    expect(dead(1).commands).toEqual([{ step: 'credit', action: 'compensate', attempt: 2 }]);
    expect(dead(1).changed).toBe(false); // an old attempt's dead letter is stale
    dead(2);
    expect(other.state.status).toBe('FAILED');
    expect(other.state.failedReason).toBe('compensation of credit did not complete after 2 attempts');
  });

  it('a saga document written before issuedAt existed derives it from its deadline', () => {
    const saga = new Saga(ORDER);
    const { issuedAt: _dropped, ...legacy } = saga.state.awaiting!;
    const state: SagaState = { ...saga.state, awaiting: legacy };
    const d = decide(
      state,
      { kind: 'timeout', ...commandRef(legacy), cause: 'deadline', queued: true },
      state.deadlineAt!,
      OPTS,
    );
    expect(d.deferred).toBe(true);
    expect(d.state.deadlineAt).toBe(T0 + 2 * OPTS.stepTimeoutMs);
  });
});
