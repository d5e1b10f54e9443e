/**
 * The invariant checker itself (test/support/invariants.ts), against the real Firestore emulator: a consistent
 * world of orders and trips has no violation; each corruption of it (a seat count off, a confirmed trip missing a
 * hold, a rejected trip still holding or charged, a saga left running) is reported as exactly that.
 */
import { Firestore } from '@google-cloud/firestore';
import { seedData } from '../../emulator/seed';
import { CAR_COLLECTIONS } from '../../shared/participants/cars';
import { CREDIT_COLLECTIONS } from '../../shared/participants/credit';
import { FLIGHT_COLLECTIONS } from '../../shared/participants/flights';
import { HOTEL_COLLECTIONS } from '../../shared/participants/hotels';
import { INVENTORY_COLLECTIONS } from '../../shared/participants/inventory';
import { commandRef, decide, isTerminal, start } from '../../shared/runtime/engine/engine';
import type { EngineOptions, SagaDefinition, SagaState } from '../../shared/runtime/engine/types';
import { skippedSteps } from '../../shared/runtime/saga/binding';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import { orderPlacement, type OrderData } from '../../shared/sagas/order-placement/definition';
import { tripBookingV1 as tripBooking, type TripData } from '../../shared/sagas/trip-booking/definition';
import { uniqueProjectId } from '../support/env';
import { checkInvariants, settle, type InvariantReport, type Seed } from '../support/invariants';

const OPTS: EngineOptions = { stepTimeoutMs: 1_000, scheduleToStartMs: 10_000, compensationMaxAttempts: 3 };

const seed: Seed = {
  customers: [{ customerId: 'c-1', creditLimitCents: 100_000 }],
  products: [{ sku: 's-1', available: 10 }],
  flights: [
    { flightId: 'f-1', seats: 10 },
    { flightId: 'f-2', seats: 2 },
  ],
  hotels: [{ hotelId: 'h-1', rooms: 5 }],
  cars: [{ carClass: 'compact', available: 3 }],
};

/**
 * A saga's state from the engine: every awaited command answered SUCCEEDED, except the forward of `failAt` (FAILED
 * with its reason); `answers` stops early (the saga is still running).
 */
function drive(
  def: SagaDefinition,
  id: string,
  skipped: readonly string[],
  failAt?: { step: string; reason: string },
  answers = Infinity,
): SagaState {
  let state = start(def, id, 0, OPTS, skipped).state;
  for (let n = 0; n < answers && !isTerminal(state); n++) {
    const a = state.awaiting!;
    const fail = a.action === 'forward' && a.step === failAt?.step;
    state = decide(
      state,
      {
        kind: 'reply',
        ...commandRef(a),
        outcome: fail ? 'FAILED' : 'SUCCEEDED',
        reason: fail ? failAt.reason : undefined,
      },
      n + 1,
      OPTS,
    ).state;
  }
  return state;
}

/** The saga document the orchestrator would store for a trip. */
const tripSaga = (
  data: TripData,
  failAt?: { step: string; reason: string },
  answers?: number,
): Record<string, unknown> => ({
  ...drive(tripBooking.definition, data.tripId, skippedSteps(tripBooking, data), failAt, answers),
  data: { ...data },
  createdAt: 0,
  updatedAt: 0,
});

function trip(tripId: string, seats: number, car: boolean, flightId = 'f-1'): TripData {
  return {
    tripId,
    customerId: 'c-1',
    flight: { flightId, seats, priceCents: 45_000 },
    hotel: { hotelId: 'h-1', rooms: 1, priceCents: 30_000 },
    car: car ? { carClass: 'compact', priceCents: 12_000 } : null,
    totalCents: car ? 87_000 : 75_000,
    paymentToken: 'tok_visa',
  };
}
const order: OrderData = {
  orderId: 'o-1',
  customerId: 'c-1',
  items: [{ sku: 's-1', quantity: 2, unitPriceCents: 500 }],
  totalCents: 1_000,
  paymentToken: 'tok_visa',
};

type Docs = Map<string, Record<string, unknown>>;
const hold = (resourceId: string, units: number) => [{ resourceId, units }];
const reserved = (key: string, holds: { resourceId: string; units: number }[]) => ({
  key,
  status: 'RESERVED',
  holds,
});

/** A consistent world: one approved order; trips a (car), b (no car) confirmed; c declined; d NO_SEATS. */
function world(): Docs {
  const a = trip('t-a', 2, true);
  const b = trip('t-b', 1, false);
  const c = { ...trip('t-c', 2, true), paymentToken: 'tok_chargeDeclined' };
  const d = trip('t-d', 3, false, 'f-2');
  const F = FLIGHT_COLLECTIONS.reservations;
  const H = HOTEL_COLLECTIONS.reservations;
  const C = CAR_COLLECTIONS.reservations;
  const released = (key: string, holds: { resourceId: string; units: number }[]) => ({
    key,
    status: 'RELEASED',
    holds,
  });
  return new Map<string, Record<string, unknown>>([
    [`${COLLECTIONS.sagas}/o-1`, { ...drive(orderPlacement.definition, 'o-1', []), data: { ...order } }],
    [`${COLLECTIONS.sagas}/t-a`, tripSaga(a)],
    [`${COLLECTIONS.sagas}/t-b`, tripSaga(b)],
    [`${COLLECTIONS.sagas}/t-c`, tripSaga(c, { step: 'payment', reason: 'PAYMENT_DECLINED' })],
    [`${COLLECTIONS.sagas}/t-d`, tripSaga(d, { step: 'flight', reason: 'NO_SEATS' })],
    [
      `${CREDIT_COLLECTIONS.customers}/c-1`,
      { customerId: 'c-1', creditLimitCents: 100_000, creditUsedCents: 1_000 },
    ],
    [`${INVENTORY_COLLECTIONS.products}/s-1`, { sku: 's-1', available: 8 }],
    [`${FLIGHT_COLLECTIONS.flights}/f-1`, { flightId: 'f-1', seatsAvailable: 7 }],
    [`${HOTEL_COLLECTIONS.hotels}/h-1`, { hotelId: 'h-1', roomsAvailable: 3 }],
    [`${CAR_COLLECTIONS.carClasses}/compact`, { carClass: 'compact', available: 2 }],
    [`${F}/t-a`, reserved('t-a', hold('f-1', 2))],
    [`${H}/t-a`, reserved('t-a', hold('h-1', 1))],
    [`${C}/t-a`, reserved('t-a', hold('compact', 1))],
    [`${F}/t-b`, reserved('t-b', hold('f-1', 1))],
    [`${H}/t-b`, reserved('t-b', hold('h-1', 1))],
    [`${F}/t-c`, released('t-c', hold('f-1', 2))],
    [`${H}/t-c`, released('t-c', hold('h-1', 1))],
    [`${C}/t-c`, released('t-c', hold('compact', 1))],
    [`${F}/t-d`, { key: 't-d', status: 'REJECTED', reason: 'NO_SEATS', holds: hold('f-2', 3) }],
    [`${COLLECTIONS.payments}/o-1`, { orderId: 'o-1', amountCents: 1_000, status: 'CHARGED' }],
    [`${COLLECTIONS.payments}/t-a`, { orderId: 't-a', amountCents: 87_000, status: 'CHARGED' }],
    [`${COLLECTIONS.payments}/t-b`, { orderId: 't-b', amountCents: 75_000, status: 'CHARGED' }],
    [`${COLLECTIONS.payments}/t-c`, { orderId: 't-c', amountCents: 87_000, status: 'DECLINED' }],
    [`${COLLECTIONS.gatewayLedger}/o-1`, { state: 'CHARGED' }],
    [`${COLLECTIONS.gatewayLedger}/t-a`, { state: 'CHARGED' }],
    [`${COLLECTIONS.gatewayLedger}/t-b`, { state: 'CHARGED' }],
  ]);
}

const dbs: Firestore[] = [];
afterAll(async () => Promise.all(dbs.map((db) => db.terminate())));

/** Writes the seed, then `docs` over it, into a fresh project; returns the project id. */
async function store(docs: Docs): Promise<string> {
  const projectId = uniqueProjectId('it-invariants');
  const db = new Firestore({ projectId, ignoreUndefinedProperties: true });
  dbs.push(db);
  await seedData(db, seed);
  const batch = db.batch();
  for (const [path, value] of docs) batch.set(db.doc(path), value);
  await batch.commit();
  return projectId;
}

async function check(change: (docs: Docs) => void = () => undefined): Promise<InvariantReport> {
  const docs = world();
  change(docs);
  return checkInvariants(await store(docs), seed);
}

function update(docs: Docs, path: string, fields: Record<string, unknown>): void {
  docs.set(path, { ...docs.get(path)!, ...fields });
}

test('a consistent world of orders and trips has no violation', async () => {
  expect(await check()).toEqual({
    orders: 1,
    approved: 1,
    rejected: 0,
    trips: 4,
    confirmed: 2,
    rejectedTrips: 2,
    failed: 0,
    pending: 0,
    violations: [],
  });
});

const F = FLIGHT_COLLECTIONS.reservations;
test.each<[string, (docs: Docs) => void, (string | RegExp)[]]>([
  [
    'a flight with a seat count off by one',
    (d) => update(d, `${FLIGHT_COLLECTIONS.flights}/f-1`, { seatsAvailable: 6 }),
    ['flight f-1: seeded 10 − held 3 ≠ seatsAvailable 6'],
  ],
  [
    'a negative car count',
    (d) => update(d, `${CAR_COLLECTIONS.carClasses}/compact`, { available: -1 }),
    ['car compact: seeded 3 − held 1 ≠ available -1', 'car compact: available -1 < 0'],
  ],
  [
    'a confirmed trip whose rooms were released',
    (d) => {
      update(d, `${HOTEL_COLLECTIONS.reservations}/t-a`, { status: 'RELEASED' });
      update(d, `${HOTEL_COLLECTIONS.hotels}/h-1`, { roomsAvailable: 4 });
    },
    [/^confirmed trip t-a: hotel record .*"RELEASED".*, not holding \{"resourceId":"h-1","units":1\}$/],
  ],
  [
    'a confirmed trip holding fewer seats than it booked',
    (d) => {
      d.set(`${F}/t-a`, reserved('t-a', hold('f-1', 1)));
      update(d, `${FLIGHT_COLLECTIONS.flights}/f-1`, { seatsAvailable: 8 });
    },
    [/^confirmed trip t-a: flight record .*, not holding \{"resourceId":"f-1","units":2\}$/],
  ],
  [
    'a trip without a car holding one',
    (d) => {
      d.set(`${CAR_COLLECTIONS.reservations}/t-b`, reserved('t-b', hold('compact', 1)));
      update(d, `${CAR_COLLECTIONS.carClasses}/compact`, { available: 1 });
    },
    ['trip t-b has no car but holds one'],
  ],
  [
    'a rejected trip still holding its seats',
    (d) => {
      d.set(`${F}/t-c`, reserved('t-c', hold('f-1', 2)));
      update(d, `${FLIGHT_COLLECTIONS.flights}/f-1`, { seatsAvailable: 5 });
    },
    ['rejected trip t-c still holds flight [{"resourceId":"f-1","units":2}]'],
  ],
  [
    'a rejected trip charged',
    (d) => update(d, `${COLLECTIONS.payments}/t-c`, { status: 'CHARGED' }),
    ['rejected trip t-c: payment CHARGED', 'payment t-c: status CHARGED but saga not SUCCEEDED'],
  ],
  [
    'a rejected trip whose refund is still running (shown CHARGED)',
    (d) => update(d, `${COLLECTIONS.payments}/t-c`, { status: 'REFUNDING', before: 'CHARGED' }),
    ['rejected trip t-c: payment CHARGED'],
  ],
  [
    'a confirmed trip charged another amount',
    (d) => update(d, `${COLLECTIONS.payments}/t-b`, { amountCents: 1 }),
    ['trip-booking t-b: charged 1 ≠ total 75000'],
  ],
  [
    'a confirmed trip never charged',
    (d) => {
      d.delete(`${COLLECTIONS.payments}/t-b`);
      d.delete(`${COLLECTIONS.gatewayLedger}/t-b`);
    },
    ['trip-booking t-b SUCCEEDED without a CHARGED payment'],
  ],
  [
    'seats held for a flight never seeded',
    (d) => d.set(`${F}/t-x`, reserved('t-x', hold('f-ghost', 1))),
    ['flight f-ghost: held but never seeded'],
  ],
  [
    'credit taken by a trip (trips take none)',
    (d) => update(d, `${CREDIT_COLLECTIONS.customers}/c-1`, { creditUsedCents: 1_000 + 87_000 }),
    ['customer c-1: creditUsedCents 88000 ≠ approved total 1000'],
  ],
])('reports %s', async (_what, change, expected) => {
  const r = await check(change);
  expect(r.violations).toEqual(
    expected.map((e): unknown => (typeof e === 'string' ? e : expect.stringMatching(e))),
  );
});

test('a saga left running is pending, and settle reports it once its time is up', async () => {
  const docs = world();
  docs.set(`${COLLECTIONS.sagas}/t-e`, tripSaga(trip('t-e', 1, false, 'f-2'), undefined, 1));
  const projectId = await store(docs);
  const r = await settle(projectId, seed, 1_000);
  expect(r.pending).toBe(1);
  expect(r.violations).toEqual(['1 sagas still running after 1000 ms']);
});
