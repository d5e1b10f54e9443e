/**
 * The flights, hotels and cars participants (reservation kind) against the real Firestore and Pub/Sub emulators:
 * effects, business failures, duplicates (effects once), compensation before forward (tombstones), and concurrent
 * reserves on one flight (exactly its seats sold, never below zero).
 */
import { seedData } from '../../emulator/seed';
import { carsParticipant } from '../../functions/cars/service';
import { flightsParticipant } from '../../functions/flights/service';
import { hotelsParticipant } from '../../functions/hotels/service';
import { CAR_COLLECTIONS } from '../../shared/participants/cars';
import { FLIGHT_COLLECTIONS } from '../../shared/participants/flights';
import { HOTEL_COLLECTIONS } from '../../shared/participants/hotels';
import { registry } from '../../shared/registry';
import { PermanentError } from '../../shared/runtime/errors';
import type { CommandMessage } from '../../shared/runtime/messages';
import { runTxParticipant, type TxParticipant } from '../../shared/runtime/participants/transactional';
import { Registry } from '../../shared/runtime/registry';
import { docId } from '../../shared/runtime/store/collections';
import {
  TRIP_BOOKING,
  TRIP_BOOKING_VERSIONS,
  type TripData,
} from '../../shared/sagas/trip-booking/definition';
import { TOPICS } from '../../shared/topology';
import { issueTrips, redeliverUntilDone, trip, tripCommand } from '../support/commands';
import { integrationEnv, type IntegrationEnv, type Tap } from '../support/integration';

// trip-booking may not be registered in this deployment yet: the participants accept only commands of a saga
// type the registry knows.
const withTrips = new Registry({
  participants: registry.participants(),
  sagas: registry.latest(TRIP_BOOKING) ? registry.sagas() : [...registry.sagas(), ...TRIP_BOOKING_VERSIONS],
});

let env: IntegrationEnv;
let replies: Tap;

beforeAll(async () => {
  env = await integrationEnv('it-trip', {}, { registry: withTrips });
  replies = await env.tap(TOPICS.sagaReplies);
  await seedData(env.db, {
    flights: [
      { flightId: 'f-1', seats: 10 },
      { flightId: 'f-two', seats: 2 },
      { flightId: 'f-crowd', seats: 3 },
      { flightId: '__f__', seats: 3 },
    ],
    hotels: [
      { hotelId: 'h-1', rooms: 10 },
      { hotelId: 'h-one', rooms: 1 },
    ],
    cars: [
      { carClass: 'compact', available: 10 },
      { carClass: 'van', available: 0 },
    ],
  });
});
afterAll(async () => env.close());

type Step = 'flight' | 'hotel' | 'car';

const participants: Record<Step, () => TxParticipant<unknown>> = {
  flight: () => flightsParticipant(env.db),
  hotel: () => hotelsParticipant(env.db),
  car: () => carsParticipant(env.db),
};

const run = (step: Step, cmd: CommandMessage) => runTxParticipant(env.ctx, participants[step](), cmd);

async function field(collection: string, id: string, name: string): Promise<number> {
  return Number((await env.db.collection(collection).doc(docId(id)).get()).get(name));
}
const seats = (flightId: string) => field(FLIGHT_COLLECTIONS.flights, flightId, 'seatsAvailable');
const rooms = (hotelId: string) => field(HOTEL_COLLECTIONS.hotels, hotelId, 'roomsAvailable');
const cars = (carClass: string) => field(CAR_COLLECTIONS.carClasses, carClass, 'available');

/** What a step's resource has available for this trip's choice. */
function availableFor(step: Step, t: TripData): Promise<number> {
  if (step === 'flight') return seats(t.flight.flightId);
  if (step === 'hotel') return rooms(t.hotel.hotelId);
  return cars(t.car!.carClass);
}

const recordsOf: Record<Step, string> = {
  flight: FLIGHT_COLLECTIONS.reservations,
  hotel: HOTEL_COLLECTIONS.reservations,
  car: CAR_COLLECTIONS.reservations,
};
async function record(step: Step, tripId: string): Promise<Record<string, unknown> | undefined> {
  return (await env.db.collection(recordsOf[step]).doc(docId(tripId)).get()).data();
}

async function repliesFor(tripId: string, n: number): Promise<Record<string, unknown>[]> {
  const until = Date.now() + 15_000;
  for (;;) {
    const mine = replies.received().filter((r) => r.sagaId === tripId);
    if (mine.length >= n || Date.now() > until) return mine;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each<[Step, TripData, number]>([
  ['flight', trip({ flight: { flightId: 'f-1', seats: 3, priceCents: 1 } }), 3],
  ['hotel', trip({ hotel: { hotelId: 'h-1', rooms: 2, priceCents: 1 } }), 2],
  ['car', trip({ car: { carClass: 'compact', priceCents: 1 } }), 1],
])('%s participant', (step, t, units) => {
  test('reserves once however often the command is delivered; releases once however often compensated', async () => {
    await issueTrips(env.db, t);
    const before = await availableFor(step, t);
    const cmd = tripCommand(t, step, 'forward');
    const results = await Promise.all([1, 2, 3].map(() => redeliverUntilDone(() => run(step, cmd))));
    expect(results.filter((r) => !r.value.duplicate)).toHaveLength(1);
    expect(results.map((r) => r.value.outcome)).toEqual(Array(3).fill({ outcome: 'SUCCEEDED' }));
    // A repeated reserve with the same id is a duplicate; its reply is the recorded one.
    expect((await run(step, cmd)).duplicate).toBe(true);
    expect(await availableFor(step, t)).toBe(before - units);
    expect((await repliesFor(t.tripId, 1))[0]).toMatchObject({
      outcome: 'SUCCEEDED',
      step,
      action: 'forward',
      id: `${cmd.id}:reply`,
    });
    expect(await record(step, t.tripId)).toMatchObject({ key: t.tripId, status: 'RESERVED' });

    const release = tripCommand(t, step, 'compensate');
    await run(step, release);
    await run(step, release);
    // A re-issued compensation (new message id) must not give back twice either.
    expect((await run(step, tripCommand(t, step, 'compensate', 2))).outcome).toEqual({
      outcome: 'SUCCEEDED',
    });
    expect(await availableFor(step, t)).toBe(before);
    expect(await record(step, t.tripId)).toMatchObject({ status: 'RELEASED' });
  });

  test('a release that overtakes its reserve leaves a tombstone; the late reserve is REFUSED', async () => {
    const late = { ...t, tripId: `${t.tripId}-late` };
    await issueTrips(env.db, late);
    const before = await availableFor(step, late);
    expect((await run(step, tripCommand(late, step, 'compensate'))).outcome).toEqual({
      outcome: 'SUCCEEDED',
    });
    expect(await record(step, late.tripId)).toMatchObject({ status: 'RELEASED', tombstone: true, holds: [] });
    const r = await run(step, tripCommand(late, step, 'forward'));
    expect(r.outcome).toEqual({ outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' });
    expect(await availableFor(step, late)).toBe(before);
    const mine = await repliesFor(late.tripId, 2);
    expect(mine.find((m) => m.action === 'forward')).toMatchObject({ outcome: 'REFUSED' });
  });
});

describe('business failures change nothing', () => {
  test.each<[string, string, Step, TripData]>([
    [
      'unknown flight',
      'UNKNOWN_FLIGHT',
      'flight',
      trip({ flight: { flightId: 'nope', seats: 1, priceCents: 1 } }),
    ],
    ['too few seats', 'NO_SEATS', 'flight', trip({ flight: { flightId: 'f-two', seats: 3, priceCents: 1 } })],
    [
      'unknown hotel',
      'UNKNOWN_HOTEL',
      'hotel',
      trip({ hotel: { hotelId: 'nope', rooms: 1, priceCents: 1 } }),
    ],
    ['too few rooms', 'NO_ROOMS', 'hotel', trip({ hotel: { hotelId: 'h-one', rooms: 2, priceCents: 1 } })],
    ['unknown car class', 'UNKNOWN_CAR_CLASS', 'car', trip({ car: { carClass: 'nope', priceCents: 1 } })],
    ['no cars left', 'NO_CARS', 'car', trip({ car: { carClass: 'van', priceCents: 1 } })],
  ])('%s → FAILED %s', async (_name, reason, step, t) => {
    await issueTrips(env.db, t);
    const known = !reason.startsWith('UNKNOWN');
    const before = known ? await availableFor(step, t) : null;
    const r = await run(step, tripCommand(t, step, 'forward'));
    expect(r.outcome).toEqual({ outcome: 'FAILED', reason });
    expect((await repliesFor(t.tripId, 1))[0]).toMatchObject({ outcome: 'FAILED', reason });
    if (known) expect(await availableFor(step, t)).toBe(before);
    // The rejection is recorded; a release of it changes nothing.
    expect(await record(step, t.tripId)).toMatchObject({ status: 'REJECTED', reason });
    await run(step, tripCommand(t, step, 'compensate'));
    if (known) expect(await availableFor(step, t)).toBe(before);
    expect(await record(step, t.tripId)).toMatchObject({ status: 'REJECTED', reason });
  });
});

test('a Firestore-reserved-looking flight id (__f__) is an ordinary flight', async () => {
  const t = trip({ flight: { flightId: '__f__', seats: 2, priceCents: 1 } });
  await issueTrips(env.db, t);
  expect((await run('flight', tripCommand(t, 'flight', 'forward'))).outcome).toEqual({
    outcome: 'SUCCEEDED',
  });
  expect(await seats('__f__')).toBe(1);
});

test('a command whose payload its saga did not issue is refused, not acted on', async () => {
  const t = trip({ flight: { flightId: 'f-1', seats: 1, priceCents: 1 } });
  await issueTrips(env.db, t);
  const forged = tripCommand({ ...t, flight: { ...t.flight, seats: 9 } }, 'flight', 'forward');
  const before = await seats('f-1');
  await expect(run('flight', forged)).rejects.toBeInstanceOf(PermanentError);
  expect(await seats('f-1')).toBe(before);
});

test('concurrent reserves on one flight sell exactly its seats, never below zero', async () => {
  // 8 buyers for 3 seats: enough to interleave transactions on one document. 16 made the emulator's
  // lock queue on that one document exceed the test timeout on a busy 2-core CI machine.
  const trips = Array.from({ length: 8 }, () =>
    trip({ flight: { flightId: 'f-crowd', seats: 1, priceCents: 1 } }),
  );
  await issueTrips(env.db, ...trips);
  const results = await Promise.all(
    trips.map((t) => redeliverUntilDone(() => run('flight', tripCommand(t, 'flight', 'forward')))),
  );
  const outcomes = results.map((r) => r.value.outcome);
  expect(outcomes.filter((o) => o?.outcome === 'SUCCEEDED')).toHaveLength(3);
  expect(outcomes.filter((o) => o?.outcome === 'FAILED' && o.reason === 'NO_SEATS')).toHaveLength(5);
  expect(await seats('f-crowd')).toBe(0);
  const reserved = await Promise.all(trips.map((t) => record('flight', t.tripId)));
  expect(reserved.filter((r) => r?.status === 'RESERVED')).toHaveLength(3);
}, 300_000);
