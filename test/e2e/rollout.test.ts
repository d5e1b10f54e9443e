/**
 * Rolling out trip-booking version 2 on emulators that keep running (README, "Rolling out a new definition
 * version"), restart by restart, with trips in flight at every restart:
 *   1. a deployment pinned to version 1 (`SAGA_START_VERSIONS=trip-booking=1`) is replaced by one with the default
 *      (version 2): the trips started on version 1 finish on version 1 (hotel, then car), new trips run version 2
 *      (hotel and car side by side);
 *   2. a rollback to code that knows only version 1 (the same build with version 2 taken out of its registry: an
 *      "old deployment") holds the version-2 trips in flight — nothing advanced, nothing timed out — and they
 *      complete once code that knows version 2 runs again.
 * Every restart is graceful (subscriptions parked, emulator/provision.ts) and comes right after the trips are placed,
 * so they are in flight; the seed is applied once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../emulator/repo';
import { startStack, type Stack } from '../../emulator/stack';
import { ApiClient, writeSeedFile, type TripView } from '../support/api-client';
import { stackTestEnv } from '../support/env';
import { settle, type Seed } from '../support/invariants';

const seed: Seed = {
  customers: [],
  products: [],
  flights: [{ flightId: 'ro-f', seats: 100 }],
  hotels: [{ hotelId: 'ro-h', rooms: 100 }],
  cars: [{ carClass: 'ro-car', available: 100 }],
};
const trip = {
  customerId: 'ro-cust',
  flight: { flightId: 'ro-f', seats: 1, priceCents: 100 },
  hotel: { hotelId: 'ro-h', rooms: 1, priceCents: 100 },
  car: { carClass: 'ro-car', priceCents: 100 },
  paymentToken: 'tok_visa',
};
const TRIPS = 4;

const running = new Set<Stack>();
afterEach(async () => {
  await Promise.all([...running].map((s) => s.stop()));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The functions of a deployment that knows trip-booking version 1 only: this build's functions, loaded after its
 * registry was replaced by one without version 2 (every module reads the registry through the export).
 */
function oldDeploymentSource(): string {
  const dist = (p: string): string => JSON.stringify(path.join(repoRoot(), 'dist', p));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'saga-old-deployment-')), 'functions.js');
  fs.writeFileSync(
    file,
    [
      `const shared = require(${dist('shared/registry.js')});`,
      `const { Registry } = require(${dist('shared/runtime/registry.js')});`,
      `const { orderPlacement } = require(${dist('shared/sagas/order-placement/definition.js')});`,
      `const { tripBookingV1 } = require(${dist('shared/sagas/trip-booking/definition.js')});`,
      `shared.registry = new Registry({ participants: shared.registry.participants(), sagas: [orderPlacement, tripBookingV1] });`,
      `module.exports = require(${dist('functions/index.js')});`,
    ].join('\n'),
  );
  return file;
}

let env: NodeJS.ProcessEnv;

async function start(
  extra: NodeJS.ProcessEnv,
  functionsSource?: string,
): Promise<{ stack: Stack; api: ApiClient }> {
  const stack = await startStack({
    env: { ...env, ...extra },
    ...(functionsSource ? { functionsSource } : {}),
  });
  running.add(stack);
  return { stack, api: new ApiClient(stack.apiUrl) };
}

async function stop(stack: Stack): Promise<void> {
  await stack.stop();
  running.delete(stack);
}

async function place(api: ApiClient, n: number): Promise<string[]> {
  const placed = await Promise.all(Array.from({ length: n }, () => api.placeTrip(trip)));
  expect(placed.map((r) => r.status)).toEqual(Array<number>(n).fill(202));
  return placed.map((r) => r.body.tripId);
}

const at = (t: TripView, type: string, step: string): number =>
  t.saga.history.findIndex((h) => h.type === type && h.step === step);

/** Version 1's order: the car was started only after the hotel succeeded. */
const ranOneAtATime = (t: TripView): boolean =>
  at(t, 'STEP_SUCCEEDED', 'hotel') < at(t, 'STEP_STARTED', 'car');
/** Version 2's group: hotel and car were both started before either succeeded. */
const ranSideBySide = (t: TripView): boolean =>
  Math.max(at(t, 'STEP_STARTED', 'hotel'), at(t, 'STEP_STARTED', 'car')) <
  Math.min(at(t, 'STEP_SUCCEEDED', 'hotel'), at(t, 'STEP_SUCCEEDED', 'car'));

beforeAll(async () => {
  env = await stackTestEnv('e2e-rollout', {
    SAGA_SEED_FILE: writeSeedFile(seed),
    SAGA_LOG_LEVEL: 'ERROR',
    SAGA_SWEEP_INTERVAL_MS: '500',
    SAGA_STEP_TIMEOUT_MS: '60000',
  });
});

let v1Trips: string[] = [];
let v2Trips: string[] = [];

test('pinned to v1, then restarted with the default: trips in flight finish on v1, new trips run v2', async () => {
  const pinned = await start({ SAGA_START_VERSIONS: 'trip-booking=1' });
  v1Trips = await place(pinned.api, TRIPS);
  const inFlight = await Promise.all(v1Trips.map((id) => pinned.api.trip(id)));
  await stop(pinned.stack);
  expect(inFlight.map((t) => t.saga.version)).toEqual(Array<number>(TRIPS).fill(1));

  const next = await start({ SAGA_SEED_FILE: 'none' });
  v2Trips = await place(next.api, TRIPS);
  const finishedV1 = await Promise.all(v1Trips.map((id) => next.api.waitTrip(id, 120_000)));
  const finishedV2 = await Promise.all(v2Trips.map((id) => next.api.waitTrip(id, 120_000)));
  for (const t of finishedV1) {
    expect(t).toMatchObject({ status: 'CONFIRMED', rejectionReason: null, saga: { version: 1 } });
    expect(ranOneAtATime(t)).toBe(true);
  }
  for (const t of finishedV2) {
    expect(t).toMatchObject({ status: 'CONFIRMED', saga: { version: 2 } });
    expect(ranSideBySide(t)).toBe(true);
  }
  await stop(next.stack);
}, 300_000);

test('rolled back to code without v2: its trips in flight are held, and complete once v2 code runs again', async () => {
  const current = await start({ SAGA_SEED_FILE: 'none' });
  const held = await place(current.api, TRIPS);
  await stop(current.stack);

  const old = await start({ SAGA_SEED_FILE: 'none' }, oldDeploymentSource());
  // The old code starts trips on the newest version it knows.
  const [oldTrip] = await place(old.api, 1);
  await sleep(8000);
  const during = await Promise.all(held.map((id) => old.api.saga(id)));
  await stop(old.stack);
  for (const s of during) {
    expect(s.status).toBe(200);
    expect(s.body.version).toBe(2);
    expect(['STARTED', 'COMPENSATING']).toContain(s.body.status);
    expect(s.body.history.some((h) => h.type === 'STEP_TIMED_OUT')).toBe(false);
  }

  const again = await start({ SAGA_SEED_FILE: 'none' });
  const finished = await Promise.all(held.map((id) => again.api.waitTrip(id, 120_000)));
  for (const t of finished) {
    expect(t).toMatchObject({ status: 'CONFIRMED', saga: { version: 2 } });
    expect(ranSideBySide(t)).toBe(true);
  }
  const fromOld = await again.api.waitTrip(oldTrip!, 120_000);
  expect(fromOld).toMatchObject({ status: 'CONFIRMED', saga: { version: 1 } });

  const report = await settle(again.stack.config.projectId, seed, 30_000);
  expect(report.violations).toEqual([]);
  expect(report).toMatchObject({ pending: 0, failed: 0 });
  expect(await again.api.seats('ro-f')).toBe(100 - 3 * TRIPS - 1);
  await stop(again.stack);
}, 300_000);
