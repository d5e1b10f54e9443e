/**
 * trip-booking pinned to definition version 1 (`SAGA_START_VERSIONS=trip-booking=1`): hotel, then car — the same
 * outcomes as version 2 (test/e2e/trips.test.ts), one step at a time.
 */
import type { Stack } from '../../emulator/stack';
import type { ApiClient, TripView } from '../support/api-client';
import { settle, type Seed } from '../support/invariants';
import { startTestStack } from '../support/test-stack';

let stack: Stack;
let api: ApiClient;

const seed: Seed = {
  customers: [],
  products: [],
  flights: [{ flightId: 'v1-f', seats: 20 }],
  hotels: [{ hotelId: 'v1-h', rooms: 10 }],
  cars: [
    { carClass: 'v1-compact', available: 5 },
    { carClass: 'v1-van', available: 0 },
  ],
};

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-trip-v1', seed, {
    SAGA_START_VERSIONS: 'trip-booking=1',
    SAGA_STEP_TIMEOUT_MS: '15000',
    SAGA_SWEEP_INTERVAL_MS: '500',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
afterAll(async () => stack?.stop());

async function book(car: string | null, paymentToken = 'tok_visa'): Promise<TripView> {
  const placed = await api.placeTrip({
    customerId: 'c-1',
    flight: { flightId: 'v1-f', seats: 1, priceCents: 100 },
    hotel: { hotelId: 'v1-h', rooms: 1, priceCents: 100 },
    ...(car ? { car: { carClass: car, priceCents: 100 } } : {}),
    paymentToken,
  });
  expect(placed.status).toBe(202);
  return api.waitTrip(placed.body.tripId);
}

const index = (t: TripView, type: string, step: string): number =>
  t.saga.history.findIndex((h) => h.type === type && h.step === step);

test('a confirmed v1 trip ran hotel, then car, one at a time', async () => {
  const t = await book('v1-compact');
  expect(t).toMatchObject({ status: 'CONFIRMED', saga: { version: 1 } });
  expect(index(t, 'STEP_SUCCEEDED', 'hotel')).toBeLessThan(index(t, 'STEP_STARTED', 'car'));
  expect(t.saga.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
});

test.each([
  [
    'v1-van',
    'tok_visa',
    'NO_CARS',
    { flight: 'COMPENSATED', hotel: 'COMPENSATED', car: 'FAILED', payment: 'PENDING' },
  ],
  [
    'v1-compact',
    'tok_chargeDeclined',
    'PAYMENT_DECLINED',
    { flight: 'COMPENSATED', hotel: 'COMPENSATED', car: 'COMPENSATED', payment: 'FAILED' },
  ],
  [
    null,
    'tok_chargeDeclined',
    'PAYMENT_DECLINED',
    { flight: 'COMPENSATED', hotel: 'COMPENSATED', car: 'SKIPPED', payment: 'FAILED' },
  ],
])('car %s, %s → REJECTED %s, everything released', async (car, token, reason, steps) => {
  const t = await book(car, token);
  expect(t).toMatchObject({ status: 'REJECTED', rejectionReason: reason, saga: { version: 1 } });
  expect(Object.fromEntries(t.saga.steps.map((s) => [s.name, s.status]))).toEqual(steps);
});

test('the invariants hold: seats, rooms and cars match the confirmed trips', async () => {
  const report = await settle(stack.config.projectId, seed);
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);
  expect(await api.seats('v1-f')).toBe(19);
  expect(await api.rooms('v1-h')).toBe(9);
  expect(await api.cars('v1-compact')).toBe(4);
});
