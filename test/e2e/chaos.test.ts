/**
 * Chaos through the harness: a batch of mixed orders and trips while function processes are SIGKILLed at random.
 * The harness restarts them (as Cloud Run would); Pub/Sub redelivery, the outbox and the sweeper finish every saga.
 * Every order and trip must end terminal and the invariants (credit, stock, seats, rooms, cars, payments) must hold.
 */
import type { Stack } from '../../emulator/stack';
import { FUNCTION_KEYS } from '../../shared/topology';
import type { ApiClient, HttpResult } from '../support/api-client';
import { startTestStack } from '../support/test-stack';
import { settle } from '../support/invariants';
import { chaosSeed, mixedOrders, mixedTrips } from '../support/mixed-orders';

let stack: Stack;
let api: ApiClient;
const KILL_MS = 60_000;

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-chaos', chaosSeed, {
    SAGA_STEP_TIMEOUT_MS: '20000',
    SAGA_SWEEP_INTERVAL_MS: '500',
    SAGA_OUTBOX_GRACE_MS: '1000',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * A client that survives an api crash: a 5xx or a dropped connection is retried (`post` sends the same
 * Idempotency-Key each time). Returns the id of the saga started.
 */
async function withRetry<B>(
  what: string,
  post: () => Promise<HttpResult<B>>,
  id: (b: B) => string,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await post();
      if (r.status === 202) return id(r.body);
      if (r.status < 500 || attempt >= 20) throw new Error(`${what} → ${r.status}`);
    } catch (err) {
      if (attempt >= 20) throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
const placeWithRetry = (order: unknown, key: string): Promise<string> =>
  withRetry(
    'POST /orders',
    () => api.placeOrder(order, key),
    (b) => b.orderId,
  );
const bookWithRetry = (trip: unknown, key: string): Promise<string> =>
  withRetry(
    'POST /trips',
    () => api.placeTrip(trip, key),
    (b) => b.tripId,
  );

test('random SIGKILLs of function processes lose nothing and double nothing', async () => {
  const orders = mixedOrders(30);
  const trips = mixedTrips();
  let kills = 0;
  let killing = true;
  const killed: Record<string, number> = {};
  const random = lcg(20261121);
  // Kills for at most KILL_MS: enough to hit every function many times mid-saga (~100 kills), and the test's time
  // stays bounded however slowly the orders go in while the api keeps being killed.
  const killUntil = Date.now() + KILL_MS;
  const killer = (async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cleared by the test while this awaits
    while (killing && Date.now() < killUntil) {
      await new Promise((r) => setTimeout(r, 300 + random() * 400));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
      if (!killing) break;
      const victim = FUNCTION_KEYS[Math.floor(random() * FUNCTION_KEYS.length)]!;
      stack.kill(victim, 'SIGKILL');
      killed[victim] = (killed[victim] ?? 0) + 1;
      kills += 1;
    }
  })();

  const placed: string[] = [];
  const booked: string[] = [];
  // Each batch: 5 orders and 2 trips, side by side.
  for (let i = 0, t = 0; i < orders.length; i += 5, t += 2) {
    const [batch, tripBatch] = await Promise.all([
      Promise.all(orders.slice(i, i + 5).map((o, j) => placeWithRetry(o, `chaos-${i + j}`))),
      Promise.all(trips.slice(t, t + 2).map((b, j) => bookWithRetry(b, `chaos-trip-${t + j}`))),
    ]);
    placed.push(...batch);
    booked.push(...tripBatch);
    if (i === 10) {
      // The api too: a client with an Idempotency-Key retries through the restart and gets the same order.
      stack.kill('api', 'SIGKILL');
      killed.api = (killed.api ?? 0) + 1;
      kills += 1;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 4000));
  killing = false;
  await killer;

  const final = await Promise.all(placed.map((id) => api.waitTerminal(id, 300_000)));
  const finalTrips = await Promise.all(booked.map((id) => api.waitTrip(id, 300_000)));
  const report = await settle(stack.config.projectId, chaosSeed);
  const restarts = Object.values(stack.restarts()).reduce((a, b) => a + b, 0);
  const reasons = finalTrips.map((t) => t.rejectionReason ?? t.status);
  process.stdout.write(
    `chaos: ${kills} kills ${JSON.stringify(killed)}, ${restarts} restarts, ${report.approved} approved, ${report.rejected} rejected of ${report.orders} orders, ${report.confirmed} confirmed, ${report.rejectedTrips} rejected of ${report.trips} trips ${JSON.stringify(reasons)}, ${report.failed} failed\n`,
  );
  expect(kills).toBeGreaterThan(5);
  expect(new Set(placed).size).toBe(orders.length);
  expect(restarts).toBeGreaterThan(0);
  expect(final.every((o) => o.status !== 'PENDING')).toBe(true);
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);
  expect(report.failed).toBe(0);
  expect(report.approved).toBeGreaterThan(0);
  expect(report.rejected).toBeGreaterThan(0);

  expect(new Set(booked).size).toBe(trips.length);
  expect(report.trips).toBe(trips.length);
  expect(finalTrips.every((t) => t.status !== 'PENDING')).toBe(true);
  expect(report.confirmed).toBeGreaterThan(0);
  expect(report.rejectedTrips).toBeGreaterThan(0);
  // A declined payment never confirms; four trips want 2 of the small flight's 3 seats: some are NO_SEATS.
  trips.forEach((b, i) => {
    if (b.paymentToken === 'tok_chargeDeclined')
      expect(`${i}: ${finalTrips[i]!.status}`).toBe(`${i}: REJECTED`);
  });
  expect(reasons).toContain('NO_SEATS');
  // A trip without a car never reserved one.
  finalTrips
    .filter((t) => t.car === null)
    .forEach((t) => expect(t.saga.steps.find((s) => s.name === 'car')?.status).toBe('SKIPPED'));
}, 420_000);
