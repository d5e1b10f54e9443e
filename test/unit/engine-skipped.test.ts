/**
 * Steps that do not apply to a saga (their binding's `when` is false) are SKIPPED at start: the engine passes over
 * them forward, never compensates them, records STEP_SKIPPED, and a participant refuses any command for them.
 * Over the trip-booking definition (flight → hotel → car → payment, car skipped without a car) and generic ones.
 */
import { commandRef, decide, isTerminal, start } from '../../shared/runtime/engine/engine';
import { commandId, type CommandMessage } from '../../shared/runtime/messages';
import { payloadOf, skippedSteps } from '../../shared/runtime/saga/binding';
import { notIssuedBecause } from '../../shared/runtime/saga/issued';
import { registry } from '../../shared/registry';
import { tripBookingV1 as tripBooking, type TripData } from '../../shared/sagas/trip-booking/definition';
import type {
  EngineOptions,
  ReplyOutcome,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
  StepStatus,
} from '../../shared/runtime/engine/types';
import type { SagaDoc } from '../../shared/runtime/store/sagas';

const OPTS: EngineOptions = { stepTimeoutMs: 1_000, scheduleToStartMs: 20_000, compensationMaxAttempts: 3 };
const T0 = Date.UTC(2024, 2, 1);
const TRIP = tripBooking.definition;
const FOUR: SagaDefinition = { type: 'four', steps: ['a', 'b', 'c', 'd'] };

/** A saga driven through the engine, keeping every command it issued. */
class Run {
  state: SagaState;
  now = T0;
  readonly issued: SagaCommand[] = [];

  constructor(def: SagaDefinition, skipped: readonly string[]) {
    const d = start(def, 's-1', this.now, OPTS, skipped);
    this.state = d.state;
    this.issued.push(...d.commands);
  }

  apply(event: SagaEvent, now = this.now + 10): SagaState {
    this.now = now;
    const d = decide(this.state, event, now, OPTS);
    this.state = d.state;
    this.issued.push(...d.commands);
    return d.state;
  }

  /** Answers the awaited command. */
  answer(outcome: ReplyOutcome = 'SUCCEEDED', reason?: string): SagaState {
    const a = this.state.awaiting!;
    return this.apply({ kind: 'reply', ...commandRef(a), outcome, reason });
  }

  /** Times out the awaited command at its deadline. */
  timeout(): SagaState {
    const a = this.state.awaiting!;
    return this.apply({ kind: 'timeout', ...commandRef(a), cause: 'deadline' }, this.state.deadlineAt!);
  }

  status(step: string): StepStatus | undefined {
    return this.state.steps.find((s) => s.name === step)?.status;
  }

  /** History entries as `TYPE step reason`. */
  history(): string[] {
    return this.state.history.map((h) => [h.type, h.step, h.reason].filter((x) => x !== undefined).join(' '));
  }
}

const fwd = (step: string): SagaCommand => ({ step, action: 'forward', attempt: 1 });
const comp = (step: string, attempt = 1): SagaCommand => ({ step, action: 'compensate', attempt });

describe('start with skipped steps', () => {
  it('marks them SKIPPED with STEP_SKIPPED in the history and issues the first step that applies', () => {
    const run = new Run(TRIP, ['car']);
    expect(run.state.steps).toEqual([
      { name: 'flight', status: 'RUNNING', attempts: 1, compensationAttempts: 0 },
      { name: 'hotel', status: 'PENDING', attempts: 0, compensationAttempts: 0 },
      { name: 'car', status: 'SKIPPED', attempts: 0, compensationAttempts: 0 },
      { name: 'payment', status: 'PENDING', attempts: 0, compensationAttempts: 0 },
    ]);
    expect(run.history()).toEqual(['SAGA_STARTED', 'STEP_SKIPPED car', 'STEP_STARTED flight']);
    expect(run.issued).toEqual([fwd('flight')]);
  });

  it('a skipped first step: the next one is issued first', () => {
    const run = new Run(FOUR, ['a']);
    expect(run.issued).toEqual([fwd('b')]);
    expect(run.state.currentStep).toBe('b');
    expect(run.status('a')).toBe('SKIPPED');
  });

  it('every step skipped: SUCCEEDED at once, nothing issued', () => {
    const run = new Run(FOUR, ['a', 'b', 'c', 'd']);
    expect(run.state).toMatchObject({
      status: 'SUCCEEDED',
      awaiting: null,
      deadlineAt: null,
      currentStep: null,
    });
    expect(run.issued).toEqual([]);
    expect(run.history()).toEqual([
      'SAGA_STARTED',
      'STEP_SKIPPED a',
      'STEP_SKIPPED b',
      'STEP_SKIPPED c',
      'STEP_SKIPPED d',
      'SAGA_SUCCEEDED',
    ]);
  });

  it.each([[['ghost']], [['car', 'ghost']], [['Car']]])('skipping an unknown step throws (%j)', (skipped) => {
    expect(() => start(TRIP, 't-1', T0, OPTS, skipped)).toThrow(/trip-booking has no step .*to skip/);
  });

  it('skipping nothing is the plain start', () => {
    expect(start(TRIP, 't-1', T0, OPTS, [])).toEqual(start(TRIP, 't-1', T0, OPTS));
  });
});

describe('forward over skipped steps', () => {
  it('a skipped middle step is passed over: never issued, the saga SUCCEEDS', () => {
    const run = new Run(TRIP, ['car']);
    run.answer(); // flight
    expect(run.state.currentStep).toBe('hotel');
    run.answer(); // hotel
    expect(run.state.currentStep).toBe('payment');
    run.answer(); // payment
    expect(run.state.status).toBe('SUCCEEDED');
    expect(run.issued).toEqual([fwd('flight'), fwd('hotel'), fwd('payment')]);
    expect(run.state.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['flight', 'SUCCEEDED', 1],
      ['hotel', 'SUCCEEDED', 1],
      ['car', 'SKIPPED', 0],
      ['payment', 'SUCCEEDED', 1],
    ]);
    expect(run.history().filter((h) => h.includes('car'))).toEqual(['STEP_SKIPPED car']);
  });

  it('several skipped steps in a row are passed over together', () => {
    const run = new Run(FOUR, ['b', 'c']);
    run.answer();
    expect(run.issued).toEqual([fwd('a'), fwd('d')]);
    run.answer();
    expect(run.state.status).toBe('SUCCEEDED');
  });

  it.each([
    [['b', 'c', 'd'], ['a']],
    [
      ['c', 'd'],
      ['a', 'b'],
    ],
    [['d'], ['a', 'b', 'c']],
  ])('every remaining step skipped (%j): SUCCEEDED after the last that applies', (skipped, applying) => {
    const run = new Run(FOUR, skipped);
    applying.forEach(() => run.answer());
    expect(run.state.status).toBe('SUCCEEDED');
    expect(isTerminal(run.state)).toBe(true);
    expect(run.issued).toEqual(applying.map(fwd));
    expect(run.history().at(-1)).toBe('SAGA_SUCCEEDED');
  });
});

describe('compensation passes over skipped steps', () => {
  it('a later business failure compensates the completed steps in reverse, never the skipped one', () => {
    const run = new Run(TRIP, ['car']);
    run.answer(); // flight
    run.answer(); // hotel
    run.answer('FAILED', 'PAYMENT_DECLINED');
    expect(run.state.currentStep).toBe('hotel');
    run.answer(); // hotel released
    expect(run.state.currentStep).toBe('flight');
    run.answer(); // flight released
    expect(run.state).toMatchObject({ status: 'ABORTED', failureReason: 'PAYMENT_DECLINED' });
    expect(run.issued).toEqual([fwd('flight'), fwd('hotel'), fwd('payment'), comp('hotel'), comp('flight')]);
    expect(run.state.steps.map((s) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'SKIPPED', 'FAILED']);
    expect(run.history().filter((h) => h.includes('car'))).toEqual(['STEP_SKIPPED car']);
  });

  it('a timed-out later step is compensated, then the steps before the skipped one', () => {
    const run = new Run(TRIP, ['car']);
    run.answer();
    run.answer();
    run.timeout(); // payment
    expect(run.state.awaiting).toMatchObject(comp('payment'));
    run.answer();
    run.answer();
    run.answer();
    expect(run.state).toMatchObject({ status: 'ABORTED', failureReason: 'STEP_TIMEOUT' });
    expect(run.issued.filter((c) => c.action === 'compensate')).toEqual([
      comp('payment'),
      comp('hotel'),
      comp('flight'),
    ]);
    expect(run.status('car')).toBe('SKIPPED');
  });

  it('a failure right after a skipped first step aborts without any compensation', () => {
    const run = new Run(FOUR, ['a']);
    run.answer('FAILED', 'NOPE');
    expect(run.state).toMatchObject({ status: 'ABORTED', failureReason: 'NOPE' });
    expect(run.issued).toEqual([fwd('b')]);
    expect(run.state.steps.map((s) => s.status)).toEqual(['SKIPPED', 'FAILED', 'PENDING', 'PENDING']);
  });

  it('compensation retries of the step before a skipped one still pass over it afterwards', () => {
    const run = new Run(FOUR, ['b']);
    run.answer(); // a
    run.answer(); // c
    run.answer('FAILED', 'NOPE'); // d
    run.timeout(); // compensation of c, attempt 1
    expect(run.state.awaiting).toMatchObject(comp('c', 2));
    run.answer();
    expect(run.state.awaiting).toMatchObject(comp('a'));
    run.answer();
    expect(run.state.status).toBe('ABORTED');
    expect(run.issued.some((c) => c.step === 'b')).toBe(false);
  });
});

describe('events for a skipped step change nothing', () => {
  const events: [string, SagaEvent][] = [
    ['a forward reply', { kind: 'reply', step: 'car', action: 'forward', attempt: 1, outcome: 'SUCCEEDED' }],
    [
      'a compensation reply',
      { kind: 'reply', step: 'car', action: 'compensate', attempt: 1, outcome: 'SUCCEEDED' },
    ],
    ['a forward timeout', { kind: 'timeout', step: 'car', action: 'forward', attempt: 1, cause: 'deadline' }],
    ['a dead letter', { kind: 'timeout', step: 'car', action: 'forward', attempt: 1, cause: 'deadLetter' }],
  ];
  it.each(events)('%s while a later step runs', (_what, event) => {
    const run = new Run(TRIP, ['car']);
    run.answer();
    run.answer(); // payment is running
    const d = decide(run.state, event, run.state.deadlineAt! + 1, OPTS);
    expect(d.changed).toBe(false);
    expect(d.commands).toEqual([]);
    expect(d.state).toEqual(run.state);
  });
});

describe('the trip-booking binding skips the car of a trip without one', () => {
  const base: TripData = {
    tripId: 't-1',
    customerId: 'c-1',
    flight: { flightId: 'f-1', seats: 2, priceCents: 45_000 },
    hotel: { hotelId: 'h-1', rooms: 1, priceCents: 30_000 },
    car: null,
    totalCents: 75_000,
    paymentToken: 'tok_visa',
  };
  const withCar: TripData = { ...base, car: { carClass: 'compact', priceCents: 12_000 }, totalCents: 87_000 };

  it('skippedSteps: [car] without a car, nothing with one', () => {
    expect(skippedSteps(tripBooking, base)).toEqual(['car']);
    expect(skippedSteps(tripBooking, withCar)).toEqual([]);
  });

  /** The saga document after `answers` forward successes, as the orchestrator stores it. */
  function sagaDoc(data: TripData, answers: number): SagaDoc {
    const run = new Run(TRIP, skippedSteps(tripBooking, data));
    for (let i = 0; i < answers; i++) run.answer();
    return { ...run.state, sagaId: data.tripId, data: { ...data }, createdAt: T0, updatedAt: run.now };
  }
  const command = (step: string, action: 'forward' | 'compensate', attempt = 1): CommandMessage => ({
    v: 1,
    type: 'saga.command',
    id: commandId('t-1', step, action, attempt),
    sagaId: 't-1',
    sagaType: TRIP.type,
    step,
    action,
    attempt,
    // What a genuine car command of the same trip with a car would carry.
    payload: payloadOf(tripBooking, step, withCar),
  });

  it('a forward command for the SKIPPED car is refused, in every state of the saga', () => {
    for (const answers of [0, 1, 2, 3]) {
      const doc = sagaDoc(base, answers);
      expect(doc.steps.find((s) => s.name === 'car')?.status).toBe('SKIPPED');
      expect(notIssuedBecause(registry, doc, command('car', 'forward'))).toBe('step car was never started');
    }
  });

  it('a compensation for the SKIPPED car is refused', () => {
    const doc = sagaDoc(base, 3);
    expect(doc.status).toBe('SUCCEEDED');
    expect(notIssuedBecause(registry, doc, command('car', 'compensate'))).toBe(
      'step car is SKIPPED: its saga never issued a compensation',
    );
  });

  it('the same car command is genuine for the trip with a car, once its car step was issued', () => {
    expect(notIssuedBecause(registry, sagaDoc(withCar, 1), command('car', 'forward'))).toBe(
      'step car was never started',
    );
    expect(notIssuedBecause(registry, sagaDoc(withCar, 2), command('car', 'forward'))).toBeNull();
  });

  it('the steps that apply are genuine on the trip without a car', () => {
    const doc = sagaDoc(base, 2);
    expect(doc.currentStep).toBe('payment');
    const payment: CommandMessage = {
      ...command('payment', 'forward'),
      payload: payloadOf(tripBooking, 'payment', base),
    };
    expect(notIssuedBecause(registry, doc, payment)).toBeNull();
  });
});
