/**
 * Versioned definitions: the registry holds every version of a saga type; new sagas start on the newest unless
 * SAGA_START_VERSIONS names one; a saga is decided with the binding of the version it recorded at start, and one
 * whose version this code does not know is held (a retryable error), never decided with another version.
 */
import { z } from 'zod';
import { UnknownDefinitionVersionError, isRetryable } from '../../shared/runtime/errors';
import { start } from '../../shared/runtime/engine/engine';
import { defineSaga, Registry, step, type AnySagaBinding } from '../../shared/runtime/registry';
import { notIssuedBecause } from '../../shared/runtime/saga/issued';
import { commandMessage } from '../../shared/runtime/saga/binding';
import type { CommandMessage } from '../../shared/runtime/messages';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { cars } from '../../shared/participants/cars';
import { credit } from '../../shared/participants/credit';
import { hotels } from '../../shared/participants/hotels';
import { registry, SAGA_APIS } from '../../shared/registry';
import {
  TRIP_BOOKING,
  tripBookingV1,
  tripBookingV2,
  type TripData,
} from '../../shared/sagas/trip-booking/definition';

const OPTS = { stepTimeoutMs: 1000, scheduleToStartMs: 10_000, compensationMaxAttempts: 3 };
const data = z.object({ orderId: z.string(), customerId: z.string(), amountCents: z.number() });
type Data = z.infer<typeof data>;
const creditStep = step({ participant: credit, payload: (d: Data) => d });

function saga(type: string, version: number | undefined, steps: string[] = ['credit']): AnySagaBinding {
  return defineSaga({
    definition: { type, ...(version === undefined ? {} : { version }), steps },
    dataSchema: data,
    steps: Object.fromEntries(steps.map((s) => [s, creditStep])),
  });
}

describe('Registry versions', () => {
  const r = new Registry({
    participants: [credit],
    sagas: [saga('a', 2), saga('a', 1), saga('a', 10), saga('b', undefined)],
  });

  it('holds every version of a type, in order; a definition without a version is version 1', () => {
    expect(r.types()).toEqual(['a', 'b']);
    expect(r.versions('a')).toEqual([1, 2, 10]);
    expect(r.versions('b')).toEqual([1]);
    expect(r.versions('nope')).toEqual([]);
    expect(r.sagas()).toHaveLength(4);
    expect(r.binding('a', 2)?.definition.version).toBe(2);
    expect(r.binding('a', 3)).toBeUndefined();
    expect(r.binding('b', 1)?.definition.type).toBe('b');
  });

  it('latest is the newest version (numerically)', () => {
    expect(r.latest('a')?.definition.version).toBe(10);
    expect(r.latest('b')?.definition.type).toBe('b');
    expect(r.latest('nope')).toBeUndefined();
  });

  it('new sagas start on the newest version unless the start versions name one', () => {
    expect(r.startBinding('a', new Map())?.definition.version).toBe(10);
    expect(r.startBinding('a', new Map([['a', 1]]))?.definition.version).toBe(1);
    expect(r.startBinding('b', new Map([['a', 1]]))?.definition.type).toBe('b');
    expect(r.startBinding('a', new Map([['a', 3]]))).toBeUndefined();
    expect(r.startVersionProblems(new Map([['a', 2]]))).toEqual([]);
    expect(r.startVersionProblems(new Map([['a', 3]]))).toEqual([
      'saga type a has no definition version 3 (known: 1, 2, 10)',
    ]);
    expect(r.startVersionProblems(new Map([['c', 1]]))).toEqual(['unknown saga type c (known: a, b)']);
  });

  it("a saga is decided with its recorded version's binding; an unknown version is held, an unknown type is not known", () => {
    expect(r.bindingOf({ sagaId: 's', type: 'a', definitionVersion: 2 })?.definition.version).toBe(2);
    // Documents written before versions existed run on version 1.
    expect(r.bindingOf({ sagaId: 's', type: 'a' })?.definition.version).toBe(1);
    let held: unknown;
    try {
      r.bindingOf({ sagaId: 's-9', type: 'a', definitionVersion: 9 });
    } catch (err) {
      held = err;
    }
    expect(held).toBeInstanceOf(UnknownDefinitionVersionError);
    expect(isRetryable(held)).toBe(true);
    expect((held as UnknownDefinitionVersionError).reason).toBe('UNKNOWN_DEFINITION_VERSION');
    expect((held as Error).message).toMatch(/s-9 runs on a definition version 9.*known: 1, 2, 10/);
    expect(r.bindingOf({ sagaId: 's', type: 'nope', definitionVersion: 1 })).toBeUndefined();
    expect(r.isUnknownVersion({ type: 'a', definitionVersion: 9 })).toBe(true);
    expect(r.isUnknownVersion({ type: 'a', definitionVersion: 2 })).toBe(false);
    expect(r.isUnknownVersion({ type: 'nope', definitionVersion: 9 })).toBe(false);
  });

  it('participants are looked up per version', () => {
    expect(r.participantOf('a', 'credit', 2)?.name).toBe('credit');
    expect(r.participantOf('a', 'credit', 3)).toBeUndefined();
    expect(r.stepParticipants('a', 'credit').map((p) => p.name)).toEqual(['credit']);
    expect(r.stepParticipants('a', 'nope')).toEqual([]);
  });

  it('refuses a version declared twice, a version that is not a positive integer, stages that do not list the steps', () => {
    expect(
      () => new Registry({ participants: [credit], sagas: [saga('a', 1), saga('a', undefined)] }),
    ).toThrow(/a version 1 is declared twice/);
    expect(() => new Registry({ participants: [credit], sagas: [saga('a', 0)] })).toThrow(/positive integer/);
    const staged = (stages: string[][]) =>
      defineSaga({
        definition: { type: 'a', steps: ['x', 'y'], stages },
        dataSchema: data,
        steps: { x: creditStep, y: creditStep },
      });
    expect(() => new Registry({ participants: [credit], sagas: [staged([['x', 'y']])] })).not.toThrow();
    expect(() => new Registry({ participants: [credit], sagas: [staged([['y'], ['x']])] })).toThrow(/stages/);
    expect(() => new Registry({ participants: [credit], sagas: [staged([['x']])] })).toThrow(/stages/);
  });
});

describe('trip-booking versions (contract §8)', () => {
  it('v1 and v2 are registered; new trips start on v2; both have the same steps and payloads', () => {
    expect(registry.versions(TRIP_BOOKING)).toEqual([1, 2]);
    expect(registry.latest(TRIP_BOOKING)).toBe(tripBookingV2);
    expect(registry.startBinding(TRIP_BOOKING, new Map())).toBe(tripBookingV2);
    expect(registry.startBinding(TRIP_BOOKING, new Map([[TRIP_BOOKING, 1]]))).toBe(tripBookingV1);
    expect(tripBookingV1.definition).toEqual({
      type: TRIP_BOOKING,
      version: 1,
      steps: ['flight', 'hotel', 'car', 'payment'],
    });
    expect(tripBookingV2.definition).toEqual({
      type: TRIP_BOOKING,
      version: 2,
      steps: ['flight', 'hotel', 'car', 'payment'],
      stages: [['flight'], ['hotel', 'car'], ['payment']],
    });
    const trip: TripData = {
      tripId: 't-1',
      customerId: 'c-1',
      flight: { flightId: 'f-1', seats: 1, priceCents: 1 },
      hotel: { hotelId: 'h-1', rooms: 1, priceCents: 1 },
      car: { carClass: 'compact', priceCents: 1 },
      totalCents: 3,
      paymentToken: 'tok_visa',
    };
    for (const s of tripBookingV1.definition.steps) {
      const c = { step: s, action: 'forward' as const, attempt: 1 };
      expect(commandMessage(tripBookingV2, 't-1', trip, c)).toEqual(
        commandMessage(tripBookingV1, 't-1', trip, c),
      );
    }
    expect(tripBookingV2.steps.hotel?.participant).toBe(hotels);
    expect(tripBookingV2.steps.car?.participant).toBe(cars);
  });

  it('the engine records the definition version a saga starts on', () => {
    expect(start(tripBookingV2.definition, 't', 0, OPTS).state.definitionVersion).toBe(2);
    expect(start(tripBookingV1.definition, 't', 0, OPTS).state.definitionVersion).toBe(1);
  });

  it('each api names every version of one type (routes and views are the type’s)', () => {
    const trips = SAGA_APIS.find((a) => a.type === TRIP_BOOKING)!;
    expect(trips.versions).toEqual([tripBookingV1, tripBookingV2]);
    expect(registry.sagas()).toEqual(SAGA_APIS.flatMap((a) => a.versions));
  });

  it('a participant holds (retryable) a command of a saga whose version this code does not know', () => {
    const known = new Registry({ participants: registry.participants(), sagas: [tripBookingV1] });
    const trip = {
      tripId: 't-2',
      customerId: 'c-1',
      flight: { flightId: 'f-1', seats: 1, priceCents: 1 },
      hotel: { hotelId: 'h-1', rooms: 1, priceCents: 1 },
      car: null,
      totalCents: 2,
      paymentToken: 'tok_visa',
    };
    const state = start(tripBookingV2.definition, 't-2', 0, OPTS, ['car']).state;
    const doc: SagaDoc = { ...state, data: trip, createdAt: 0, updatedAt: 0 };
    const cmd = commandMessage(tripBookingV2, 't-2', trip, { step: 'flight', action: 'forward', attempt: 1 })
      .data as CommandMessage;
    expect(notIssuedBecause(registry, doc, cmd)).toBeNull();
    expect(() => notIssuedBecause(known, doc, cmd)).toThrow(UnknownDefinitionVersionError);
  });
});
