/**
 * Load never turns into rejections (contract §3, §6) — on the whole stack, with a step timeout far shorter than the
 * time the queues take to drain (10 s against bursts of 25-50 s; 10 s, not less: on a busy 2-core machine a participant
 * can be starved of CPU for seconds, and a step that is really being worked on must not look idle), so queue time would time steps out if it counted:
 *   - a burst larger than the stack can finish within the step timeout: every accepted order APPROVED, some
 *     requests refused with 429 + Retry-After, every one of them accepted on retry with its Idempotency-Key;
 *   - the same for one hot customer (its credit commands are one ordered queue) and one hot SKU (it sells exactly
 *     its stock, the rest OUT_OF_STOCK);
 *   - a sustained overload (an open loop offering ~2× capacity for 1.5 step timeouts) of mixed orders, declined
 *     payments among them: no accepted saga STEP_TIMEOUT or FAILED, every compensation completes.
 * Admission: throughput 10/s × 16 s = 160 sagas in flight, well above what finishes within one step timeout. The
 * hot customer's 160 orders drain one credit command at a time (120 took 14 s on a quiet machine); with 60 orders
 * and a bound of 80 a quiet machine finished them in 9.4 s and the test no longer showed what it is for.
 */
import type { Stack } from '../../emulator/stack';
import type { ApiClient, OrderView } from '../support/api-client';
import { checkInvariants, settle, type Seed } from '../support/invariants';
import { startTestStack } from '../support/test-stack';

const STEP_TIMEOUT_MS = 10_000;
const CUSTOMERS = 20;
const SKUS = 20;
const HOT_STOCK = 25;

const seed: Seed = {
  customers: [
    ...Array.from({ length: CUSTOMERS }, (_, i) => ({ customerId: `l-${i}`, creditLimitCents: 100_000_000 })),
    { customerId: 'l-hot', creditLimitCents: 100_000_000 },
  ],
  products: [
    ...Array.from({ length: SKUS }, (_, i) => ({ sku: `l-sku-${i}`, available: 100_000 })),
    { sku: 'l-hot-sku', available: HOT_STOCK },
  ],
};

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-load', seed, {
    SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS),
    SAGA_SWEEP_INTERVAL_MS: '250',
    SAGA_THROUGHPUT_PER_S: '10',
    SAGA_MAX_QUEUE_S: '16',
    SAGA_ADMISSION_REFRESH_MS: '200',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

type Order = {
  customerId: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
  paymentToken: string;
};
const order = (customerId: string, sku: string, paymentToken = 'tok_visa'): Order => ({
  customerId,
  items: [{ sku, quantity: 1, unitPriceCents: 100 }],
  paymentToken,
});

interface Placed {
  orderId: string;
  acceptedAt: number;
  refusals: { retryAfterS: number; code: unknown }[];
}

/** Posts every order as fast as `clients` clients can (open loop: nobody waits for a saga), honouring 429. */
async function burst(prefix: string, orders: Order[], clients = 24): Promise<Placed[]> {
  const out: Placed[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < orders.length) {
        const i = next++;
        const r = await api.placeOrderPatiently(orders[i], `${prefix}-${i}`);
        out.push({ ...r, acceptedAt: Date.now() });
      }
    }),
  );
  return out;
}

async function terminal(placed: Placed[]): Promise<(OrderView & { latencyMs: number })[]> {
  return Promise.all(
    placed.map(async (p) => {
      const o = await api.waitTerminal(p.orderId, 180_000);
      const end = Date.parse(o.saga.history[o.saga.history.length - 1]!.at);
      return { ...o, latencyMs: end - p.acceptedAt };
    }),
  );
}

function tally(orders: OrderView[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of orders) {
    const k = o.saga.status === 'FAILED' ? 'FAILED' : (o.rejectionReason ?? o.status);
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

function report(name: string, placed: Placed[], orders: (OrderView & { latencyMs: number })[]): void {
  const refusals = placed.reduce((n, p) => n + p.refusals.length, 0);
  const maxLatency = Math.max(...orders.map((o) => o.latencyMs));
  process.stdout.write(
    `${name}: ${placed.length} accepted, ${refusals} 429s, ${JSON.stringify(tally(orders))}, slowest ${maxLatency} ms (step timeout ${STEP_TIMEOUT_MS} ms)\n`,
  );
}

function expectRefusalsWellFormed(placed: Placed[]): void {
  const refusals = placed.flatMap((p) => p.refusals);
  expect(refusals.length).toBeGreaterThan(0);
  for (const r of refusals) {
    expect(r.code).toBe('RESOURCE_EXHAUSTED');
    expect(r.retryAfterS).toBeGreaterThanOrEqual(1);
  }
}

/**
 * While a burst of orders fills the stack, POST /trips is refused too (admission counts every saga type): one trip
 * every 250 ms, each with its own key, until one is refused. Returns the refusals' status, code and Retry-After.
 */
async function probeTrips(
  until: () => boolean,
): Promise<{ status: number; code: unknown; retryAfter: string | null }[]> {
  const refused: { status: number; code: unknown; retryAfter: string | null }[] = [];
  for (let i = 0; refused.length === 0 && !until(); i++) {
    const r = await api.placeTrip(
      {
        customerId: 'l-0',
        flight: { flightId: 'l-no-flight', seats: 1, priceCents: 100 },
        hotel: { hotelId: 'l-no-hotel', rooms: 1, priceCents: 100 },
        paymentToken: 'tok_visa',
      },
      `probe-trip-${i}`,
    );
    if (r.status === 429) {
      const body = r.body as unknown as { error?: { code?: unknown } };
      refused.push({ status: r.status, code: body.error?.code, retryAfter: r.headers.get('retry-after') });
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  return refused;
}

test('a burst larger than the stack finishes within the step timeout: every accepted order APPROVED, 429s accepted on retry', async () => {
  const orders = Array.from({ length: 240 }, (_, i) => order(`l-${i % CUSTOMERS}`, `l-sku-${i % SKUS}`));
  let posted = false;
  const [placed, tripRefusals] = await Promise.all([
    burst('burst', orders).finally(() => (posted = true)),
    probeTrips(() => posted),
  ]);
  expect(tripRefusals.map((r) => [r.status, r.code])).toEqual([[429, 'RESOURCE_EXHAUSTED']]);
  expect(Number(tripRefusals[0]?.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(new Set(placed.map((p) => p.orderId)).size).toBe(orders.length);
  const done = await terminal(placed);
  report('burst', placed, done);
  expect(tally(done)).toEqual({ APPROVED: orders.length });
  expectRefusalsWellFormed(placed);
  // Queue time exceeded the step timeout for some orders, and it did not fail them.
  expect(Math.max(...done.map((o) => o.latencyMs))).toBeGreaterThan(STEP_TIMEOUT_MS);
}, 300_000);

test('one hot customer: its orders queue on one ordering key, slow down, and are all APPROVED', async () => {
  const orders = Array.from({ length: 160 }, (_, i) => order('l-hot', `l-sku-${i % SKUS}`));
  const placed = await burst('hot-customer', orders);
  const done = await terminal(placed);
  report('hot customer', placed, done);
  expect(tally(done)).toEqual({ APPROVED: orders.length });
  expect(await api.creditUsed('l-hot')).toBe(orders.length * 100);
  expect(Math.max(...done.map((o) => o.latencyMs))).toBeGreaterThan(STEP_TIMEOUT_MS);
}, 300_000);

test('one hot SKU sells exactly its stock; the rest are OUT_OF_STOCK, none STEP_TIMEOUT', async () => {
  const orders = Array.from({ length: 60 }, (_, i) => order(`l-${i % CUSTOMERS}`, 'l-hot-sku'));
  const placed = await burst('hot-sku', orders);
  const done = await terminal(placed);
  report('hot SKU', placed, done);
  expect(tally(done)).toEqual({ APPROVED: HOT_STOCK, OUT_OF_STOCK: orders.length - HOT_STOCK });
  expect(await api.stock('l-hot-sku')).toBe(0);
}, 300_000);

test('sustained overload (open loop at ~2× capacity for 1.5 step timeouts): no accepted saga STEP_TIMEOUT or FAILED, compensations complete', async () => {
  const RATE_PER_S = 20;
  const SECONDS = (1.5 * STEP_TIMEOUT_MS) / 1000;
  const tokens = ['tok_visa', 'tok_visa', 'tok_chargeDeclined'];
  const arrivals: Promise<Placed | null>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < RATE_PER_S * SECONDS; i++) {
    const due = t0 + (i * 1000) / RATE_PER_S;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const o = order(`l-${i % CUSTOMERS}`, `l-sku-${(i * 7) % SKUS}`, tokens[i % tokens.length]);
    // Each arrival retries a few times on 429, then gives up (an offered order that was never accepted).
    arrivals.push(
      api
        .placeOrderPatiently(o, `sustained-${i}`, 4)
        .then((r) => ({ ...r, acceptedAt: Date.now() }))
        .catch((err: unknown) => {
          // Given up: still refused, 503, or no answer to its last try (a reset connection on a starved machine).
          // Whether or not it was created, the invariants below check every saga in Firestore.
          if (err instanceof Error && /still refused|→ 503|fetch failed/.test(err.message)) return null;
          throw err;
        }),
    );
  }
  const placed = (await Promise.all(arrivals)).filter((p): p is Placed => p !== null);
  const done = await terminal(placed);
  report('sustained', placed, done);
  const t = tally(done);
  expect(t.STEP_TIMEOUT).toBeUndefined();
  expect(t.FAILED).toBeUndefined();
  expect(Object.keys(t).sort()).toEqual(['APPROVED', 'PAYMENT_DECLINED']);
  // Declined payments were compensated in full: credit and stock released (the invariants), nothing left running.
  const final = await settle(stack.config.projectId, seed);
  expect(final.violations).toEqual([]);
  expect(final.pending).toBe(0);
  expect(final.failed).toBe(0);
  expect((await checkInvariants(stack.config.projectId, seed)).violations).toEqual([]);
}, 300_000);
