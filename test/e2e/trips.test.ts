/**
 * The trip-booking saga end to end through HTTP on the whole stack (contract §8): every outcome and reason, with
 * seats, rooms, cars and the payment asserted; the optional car step SKIPPED; Idempotency-Key; hostile input; a trip
 * and an order side by side in GET /sagas/{id} and in the CLI's `list` and `show`; at the end, the trip and order
 * invariants over everything booked.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Stack } from '../../emulator/stack';
import type { ApiClient, TripView } from '../support/api-client';
import { settle, type Seed } from '../support/invariants';
import { startTestStack } from '../support/test-stack';

let stack: Stack;
let api: ApiClient;
let env: NodeJS.ProcessEnv;

const seed: Seed = {
  customers: [{ customerId: 'c-1', creditLimitCents: 100_000 }],
  products: [{ sku: 'sku-1', available: 10 }],
  flights: [
    { flightId: 'f-ok', seats: 50 },
    { flightId: 'f-two', seats: 2 },
    { flightId: 'f-hotel', seats: 10 },
    { flightId: 'f-car', seats: 10 },
    { flightId: 'f-decl', seats: 10 },
    { flightId: 'f-idem', seats: 10 },
  ],
  hotels: [
    { hotelId: 'h-ok', rooms: 20 },
    { hotelId: 'h-one', rooms: 1 },
  ],
  cars: [
    { carClass: 'compact', available: 5 },
    { carClass: 'van', available: 0 },
  ],
};

beforeAll(async () => {
  ({ stack, api, env } = await startTestStack('e2e-trips', seed, {
    SAGA_STEP_TIMEOUT_MS: '15000',
    SAGA_SWEEP_INTERVAL_MS: '500',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

function trip(
  flightId: string,
  seats: number,
  hotelId: string,
  rooms: number,
  car: string | null,
  paymentToken = 'tok_visa',
): Record<string, unknown> {
  return {
    customerId: 'c-1',
    flight: { flightId, seats, priceCents: 45_000 },
    hotel: { hotelId, rooms, priceCents: 30_000 },
    ...(car ? { car: { carClass: car, priceCents: 12_000 } } : {}),
    paymentToken,
  };
}

async function book(body: Record<string, unknown>, key?: string): Promise<TripView> {
  const placed = await api.placeTrip(body, key);
  expect(placed.status).toBe(202);
  expect(placed.body.status).toBe('PENDING');
  expect(placed.headers.get('location')).toBe(`/trips/${placed.body.tripId}`);
  return api.waitTrip(placed.body.tripId);
}

const stepStatuses = (t: TripView): Record<string, string> =>
  Object.fromEntries(t.saga.steps.map((s) => [s.name, s.status]));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('a trip with a car: CONFIRMED; seats, rooms and a car reserved; the total charged', async () => {
  const [seats, rooms, cars] = [await api.seats('f-ok'), await api.rooms('h-ok'), await api.cars('compact')];
  const t = await book(trip('f-ok', 2, 'h-ok', 1, 'compact'));
  expect(t).toMatchObject({ status: 'CONFIRMED', rejectionReason: null, totalCents: 87_000 });
  expect(t.car).toEqual({ carClass: 'compact', priceCents: 12_000 });
  expect(t.saga.status).toBe('SUCCEEDED');
  expect(t.saga.currentSteps).toEqual([]);
  expect(stepStatuses(t)).toEqual({
    flight: 'SUCCEEDED',
    hotel: 'SUCCEEDED',
    car: 'SUCCEEDED',
    payment: 'SUCCEEDED',
  });
  expect(await api.seats('f-ok')).toBe(seats - 2);
  expect(await api.rooms('h-ok')).toBe(rooms - 1);
  expect(await api.cars('compact')).toBe(cars - 1);
  expect(await api.payment(t.tripId)).toEqual({ orderId: t.tripId, status: 'CHARGED', amountCents: 87_000 });
  // Version 2 (the default): hotel and car run in parallel — both started before either answered.
  expect(t.saga.version).toBe(2);
  const at = (type: string, step: string): number =>
    t.saga.history.findIndex((h) => h.type === type && h.step === step);
  const firstEnd = Math.min(at('STEP_SUCCEEDED', 'hotel'), at('STEP_SUCCEEDED', 'car'));
  expect(at('STEP_STARTED', 'hotel')).toBeLessThan(firstEnd);
  expect(at('STEP_STARTED', 'car')).toBeLessThan(firstEnd);
  expect(at('STEP_STARTED', 'payment')).toBeGreaterThan(
    Math.max(at('STEP_SUCCEEDED', 'hotel'), at('STEP_SUCCEEDED', 'car')),
  );
});

test('a trip without a car: CONFIRMED with step car SKIPPED; no car taken', async () => {
  const cars = await api.cars('compact');
  const t = await book(trip('f-ok', 1, 'h-ok', 1, null));
  expect(t).toMatchObject({ status: 'CONFIRMED', car: null, totalCents: 75_000 });
  expect(stepStatuses(t)).toEqual({
    flight: 'SUCCEEDED',
    hotel: 'SUCCEEDED',
    car: 'SKIPPED',
    payment: 'SUCCEEDED',
  });
  expect(t.saga.history.some((h) => h.type === 'STEP_SKIPPED' && h.step === 'car')).toBe(true);
  expect(await api.cars('compact')).toBe(cars);
  expect(await api.payment(t.tripId)).toMatchObject({ status: 'CHARGED', amountCents: 75_000 });
});

test('UNKNOWN_FLIGHT and NO_SEATS: REJECTED at the first step, nothing reserved or charged', async () => {
  const unknown = await book(trip('f-nowhere', 1, 'h-ok', 1, 'compact'));
  expect(unknown).toMatchObject({ status: 'REJECTED', rejectionReason: 'UNKNOWN_FLIGHT' });
  expect(stepStatuses(unknown)).toMatchObject({ flight: 'FAILED', hotel: 'PENDING', car: 'PENDING' });
  const rooms = await api.rooms('h-ok');
  const full = await book(trip('f-two', 3, 'h-ok', 1, null));
  expect(full).toMatchObject({ status: 'REJECTED', rejectionReason: 'NO_SEATS' });
  expect(await api.seats('f-two')).toBe(2);
  expect(await api.rooms('h-ok')).toBe(rooms);
  expect((await api.payment(full.tripId)).status).toBe('NONE');
});

test('UNKNOWN_HOTEL and NO_ROOMS: the flight (and a car booked alongside) is released', async () => {
  const cars = await api.cars('compact');
  const unknown = await book(trip('f-hotel', 2, 'h-nowhere', 1, 'compact'));
  expect(unknown).toMatchObject({ status: 'REJECTED', rejectionReason: 'UNKNOWN_HOTEL' });
  // v1 never starts the car after the hotel failed; v2 books it alongside the hotel, then releases it.
  expect(stepStatuses(unknown)).toMatchObject({
    flight: 'COMPENSATED',
    hotel: 'FAILED',
    car: unknown.saga.version === 1 ? 'PENDING' : 'COMPENSATED',
  });
  expect(await api.cars('compact')).toBe(cars);
  const full = await book(trip('f-hotel', 2, 'h-one', 2, null));
  expect(full).toMatchObject({ status: 'REJECTED', rejectionReason: 'NO_ROOMS' });
  expect(await api.seats('f-hotel')).toBe(10);
  expect(await api.rooms('h-one')).toBe(1);
});

test('UNKNOWN_CAR_CLASS and NO_CARS: hotel and flight released', async () => {
  const unknown = await book(trip('f-car', 1, 'h-one', 1, 'limousine'));
  expect(unknown).toMatchObject({ status: 'REJECTED', rejectionReason: 'UNKNOWN_CAR_CLASS' });
  expect(stepStatuses(unknown)).toEqual({
    flight: 'COMPENSATED',
    hotel: 'COMPENSATED',
    car: 'FAILED',
    payment: 'PENDING',
  });
  const none = await book(trip('f-car', 1, 'h-one', 1, 'van'));
  expect(none).toMatchObject({ status: 'REJECTED', rejectionReason: 'NO_CARS' });
  expect(await api.seats('f-car')).toBe(10);
  expect(await api.rooms('h-one')).toBe(1);
  expect(await api.cars('van')).toBe(0);
});

test('PAYMENT_DECLINED: everything reserved is released, the payment is DECLINED', async () => {
  const cars = await api.cars('compact');
  const t = await book(trip('f-decl', 2, 'h-one', 1, 'compact', 'tok_chargeDeclined'));
  expect(t).toMatchObject({ status: 'REJECTED', rejectionReason: 'PAYMENT_DECLINED' });
  expect(stepStatuses(t)).toEqual({
    flight: 'COMPENSATED',
    hotel: 'COMPENSATED',
    car: 'COMPENSATED',
    payment: 'FAILED',
  });
  expect(await api.seats('f-decl')).toBe(10);
  expect(await api.rooms('h-one')).toBe(1);
  expect(await api.cars('compact')).toBe(cars);
  expect((await api.payment(t.tripId)).status).toBe('DECLINED');
});

test('Idempotency-Key: the same body gets the same trip (one booking); another body is 409', async () => {
  const body = trip('f-idem', 1, 'h-ok', 1, null);
  const a = await api.placeTrip(body, 'trip-key-1');
  const b = await api.placeTrip(body, 'trip-key-1');
  expect(a.status).toBe(202);
  expect(b.status).toBe(202);
  expect(b.body.tripId).toBe(a.body.tripId);
  const other = await api.placeTrip(trip('f-idem', 2, 'h-ok', 1, null), 'trip-key-1');
  expect(other.status).toBe(409);
  expect(other.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  await api.waitTrip(a.body.tripId);
  expect(await api.seats('f-idem')).toBe(9);
});

test.each([
  ['seats 0', { flight: { flightId: 'f-ok', seats: 0, priceCents: 1 } }, 'flight.seats'],
  ['seats 10', { flight: { flightId: 'f-ok', seats: 10, priceCents: 1 } }, 'flight.seats'],
  ['rooms 1.5', { hotel: { hotelId: 'h-ok', rooms: 1.5, priceCents: 1 } }, 'hotel.rooms'],
  ['a negative price', { car: { carClass: 'compact', priceCents: -1 } }, 'car.priceCents'],
  ['a bad flight id', { flight: { flightId: 'f/1', seats: 1, priceCents: 1 } }, 'flight.flightId'],
  ['an unknown field', { coupon: 'FREE' }, '(body)'],
  ['an unknown field in the car', { car: { carClass: 'compact', priceCents: 1, driver: 'x' } }, 'car'],
  ['no hotel', { hotel: undefined }, 'hotel'],
])('400 INVALID_ARGUMENT for %s, and no trip', async (_what, change, detailPath) => {
  const body = { ...trip('f-ok', 1, 'h-ok', 1, null), ...change };
  const r = await api.placeTrip(body);
  expect(r.status).toBe(400);
  const error = (r.body as unknown as { error: { code: string; details: { path: string }[] } }).error;
  expect(error.code).toBe('INVALID_ARGUMENT');
  expect(error.details.map((d) => d.path)).toContain(detailPath);
});

test('415, 413 and 405 on /trips exactly as on /orders', async () => {
  const text = await api.request('POST', '/trips', { body: '{}', headers: { 'content-type': 'text/plain' } });
  expect(text.status).toBe(415);
  const big = await api.request('POST', '/trips', {
    body: JSON.stringify({ padding: 'x'.repeat(70_000) }),
    headers: { 'content-type': 'application/json' },
  });
  expect(big.status).toBe(413);
  const del = await api.request('DELETE', '/trips');
  expect(del.status).toBe(405);
  expect(del.headers.get('allow')).toBe('POST');
});

test('a trip and an order side by side: GET /sagas/{id}, each resource 404 for the other type, list and show', async () => {
  const order = await api.placeOrder({
    customerId: 'c-1',
    items: [{ sku: 'sku-1', quantity: 1, unitPriceCents: 100 }],
    paymentToken: 'tok_visa',
  });
  const t = await book(trip('f-ok', 1, 'h-ok', 1, 'compact'));
  const o = await api.waitTerminal(order.body.orderId);
  expect(o.status).toBe('APPROVED');

  const tripSaga = await api.saga(t.tripId);
  expect(tripSaga.status).toBe(200);
  expect(tripSaga.body).toMatchObject({
    sagaId: t.tripId,
    type: 'trip-booking',
    version: 2, // new trips start on the newest definition version (contract §8)
    status: 'SUCCEEDED',
  });
  expect(tripSaga.body).toEqual(t.saga);
  const orderSaga = await api.saga(o.orderId);
  expect(orderSaga.body).toMatchObject({
    sagaId: o.orderId,
    type: 'order-placement',
    version: 1,
    status: 'SUCCEEDED',
  });
  expect(orderSaga.body.steps.map((s) => s.name)).toEqual(['credit', 'inventory', 'payment']);
  expect((await api.saga('00000000-0000-0000-0000-000000000000')).status).toBe(404);
  expect((await api.request('GET', `/orders/${t.tripId}`)).status).toBe(404);
  expect((await api.request('GET', `/trips/${o.orderId}`)).status).toBe(404);

  const all = cli('list', '--json', '--limit', '100');
  expect(all.status).toBe(0);
  const rows = JSON.parse(all.stdout) as { sagaId: string; type: string; status: string }[];
  expect(rows.find((r) => r.sagaId === t.tripId)).toMatchObject({
    type: 'trip-booking',
    status: 'CONFIRMED',
  });
  expect(rows.find((r) => r.sagaId === o.orderId)).toMatchObject({
    type: 'order-placement',
    status: 'APPROVED',
  });
  const trips = JSON.parse(cli('list', '--type', 'trip-booking', '--json', '--limit', '100').stdout) as {
    type: string;
  }[];
  expect(trips.length).toBeGreaterThan(0);
  expect(new Set(trips.map((r) => r.type))).toEqual(new Set(['trip-booking']));
  const badType = cli('list', '--type', 'cruise');
  expect(badType.status).toBe(2);
  expect(badType.stderr).toMatch(/--type must be one of .*trip-booking/);

  const shown = cli('show', t.tripId);
  expect(shown.status).toBe(0);
  expect(shown.stdout).toMatch(new RegExp(`^trip ${t.tripId}\\s+CONFIRMED`));
  expect(shown.stdout).toMatch(/\ncar\s+SUCCEEDED\s+1\n/);
  const shownJson = JSON.parse(cli('show', o.orderId, '--json').stdout) as {
    orderId: string;
    status: string;
  };
  expect(shownJson).toMatchObject({ orderId: o.orderId, status: 'APPROVED' });
});

test('the invariants hold over every trip and order above: seats, rooms, cars, payments, credit, stock', async () => {
  const report = await settle(stack.config.projectId, seed);
  expect(report.violations).toEqual([]);
  expect(report).toMatchObject({ pending: 0, failed: 0, orders: 1, approved: 1 });
  // CONFIRMED: with a car, without, Idempotency-Key, side by side; REJECTED: one per business failure.
  expect(report).toMatchObject({ trips: 11, confirmed: 4, rejectedTrips: 7 });
});
