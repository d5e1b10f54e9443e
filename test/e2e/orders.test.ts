/**
 * End to end through HTTP on the whole stack (every function its own functions-framework process, real emulators,
 * push subscriptions with dead-letter and retry policies, the sweeper ticking): every outcome of contract §5,
 * with balances, stock and payment status asserted.
 */
import type { Stack } from '../../emulator/stack';
import type { ApiClient } from '../support/api-client';
import type { Seed } from '../support/invariants';
import { startTestStack } from '../support/test-stack';

let stack: Stack;
let api: ApiClient;

const seed: Seed = {
  customers: [
    { customerId: 'c-ok', creditLimitCents: 100_000 },
    { customerId: 'c-poor', creditLimitCents: 1_000 },
    { customerId: 'c-sku', creditLimitCents: 100_000 },
    { customerId: 'c-stock', creditLimitCents: 100_000 },
    { customerId: 'c-decl', creditLimitCents: 100_000 },
    { customerId: 'c-flaky', creditLimitCents: 100_000 },
    { customerId: 'c-idem', creditLimitCents: 100_000 },
  ],
  products: [
    { sku: 'sku-ok', available: 10 },
    { sku: 'sku-few', available: 1 },
    { sku: 'sku-decl', available: 5 },
    { sku: 'sku-flaky', available: 5 },
    { sku: 'sku-idem', available: 5 },
  ],
};

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-orders', seed, {
    SAGA_STEP_TIMEOUT_MS: '15000',
    SAGA_SWEEP_INTERVAL_MS: '500',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

const item = (sku: string, quantity: number, unitPriceCents = 1250) => ({ sku, quantity, unitPriceCents });

test('GET /healthz', async () => {
  const r = await api.request('GET', '/healthz');
  expect(r).toMatchObject({ status: 200, body: { status: 'ok' } });
});

test('an order that passes every step is APPROVED: credit used, stock taken, payment charged', async () => {
  const placed = await api.placeOrder({
    customerId: 'c-ok',
    items: [item('sku-ok', 2)],
    paymentToken: 'tok_visa',
  });
  expect(placed.status).toBe(202);
  expect(placed.body.status).toBe('PENDING');
  expect(placed.headers.get('location')).toBe(`/orders/${placed.body.orderId}`);
  const o = await api.waitTerminal(placed.body.orderId);
  expect(o).toMatchObject({ status: 'APPROVED', rejectionReason: null, totalCents: 2500 });
  expect(o.saga.status).toBe('SUCCEEDED');
  expect(o.saga.currentStep).toBeNull();
  expect(o.saga.steps).toEqual([
    { name: 'credit', status: 'SUCCEEDED', attempts: 1 },
    { name: 'inventory', status: 'SUCCEEDED', attempts: 1 },
    { name: 'payment', status: 'SUCCEEDED', attempts: 1 },
  ]);
  expect(o.saga.history.map((h) => h.type)).toContain('SAGA_SUCCEEDED');
  expect(await api.creditUsed('c-ok')).toBe(2500);
  expect(await api.stock('sku-ok')).toBe(8);
  expect(await api.payment(o.orderId)).toEqual({ orderId: o.orderId, status: 'CHARGED', amountCents: 2500 });
});

test.each([
  [
    'UNKNOWN_CUSTOMER',
    { customerId: 'c-nobody', items: [item('sku-ok', 1)], paymentToken: 'tok_visa' },
    'c-nobody',
    'sku-ok',
    'NONE',
  ],
  [
    'CREDIT_LIMIT_EXCEEDED',
    { customerId: 'c-poor', items: [item('sku-ok', 1, 1001)], paymentToken: 'tok_visa' },
    'c-poor',
    'sku-ok',
    'NONE',
  ],
  [
    'UNKNOWN_SKU',
    { customerId: 'c-sku', items: [item('sku-ok', 1), item('sku-missing', 1)], paymentToken: 'tok_visa' },
    'c-sku',
    'sku-ok',
    'NONE',
  ],
  [
    'OUT_OF_STOCK',
    { customerId: 'c-stock', items: [item('sku-few', 2)], paymentToken: 'tok_visa' },
    'c-stock',
    'sku-few',
    'NONE',
  ],
  [
    'PAYMENT_DECLINED',
    { customerId: 'c-decl', items: [item('sku-decl', 3)], paymentToken: 'tok_chargeDeclined' },
    'c-decl',
    'sku-decl',
    'DECLINED',
  ],
])(
  '%s: the order is REJECTED and every earlier step is compensated',
  async (reason, body, customerId, sku, paymentStatus) => {
    const creditBefore = customerId === 'c-nobody' ? null : await api.creditUsed(customerId);
    const stockBefore = await api.stock(sku);
    const placed = await api.placeOrder(body);
    expect(placed.status).toBe(202);
    const o = await api.waitTerminal(placed.body.orderId);
    expect(o.status).toBe('REJECTED');
    expect(o.rejectionReason).toBe(reason);
    expect(o.saga.status).toBe('ABORTED');
    if (creditBefore !== null) expect(await api.creditUsed(customerId)).toBe(creditBefore);
    expect(await api.stock(sku)).toBe(stockBefore);
    expect((await api.payment(o.orderId)).status).toBe(paymentStatus);
    // Compensations ran in reverse order for the steps that had succeeded.
    const compensated = o.saga.history.filter((h) => h.type === 'STEP_COMPENSATED').map((h) => h.step);
    const succeeded = o.saga.history.filter((h) => h.type === 'STEP_SUCCEEDED').map((h) => h.step);
    expect(compensated).toEqual([...succeeded].reverse());
  },
);

test('tok_flaky: the charge fails twice, Pub/Sub redelivers, the 3rd attempt charges; APPROVED', async () => {
  const placed = await api.placeOrder({
    customerId: 'c-flaky',
    items: [item('sku-flaky', 1, 4000)],
    paymentToken: 'tok_flaky',
  });
  const o = await api.waitTerminal(placed.body.orderId);
  expect(o.status).toBe('APPROVED');
  expect(await api.payment(o.orderId)).toMatchObject({ status: 'CHARGED', amountCents: 4000 });
  expect(await api.creditUsed('c-flaky')).toBe(4000);
  expect(await api.stock('sku-flaky')).toBe(4);
});

test('Idempotency-Key: same key and body → same order, one saga; another body → 409', async () => {
  const body = { customerId: 'c-idem', items: [item('sku-idem', 1, 100)], paymentToken: 'tok_visa' };
  const first = await api.placeOrder(body, 'order-42');
  const again = await api.placeOrder(body, 'order-42');
  expect(first.status).toBe(202);
  expect(again.status).toBe(202);
  expect(again.body.orderId).toBe(first.body.orderId);
  const other = await api.placeOrder({ ...body, paymentToken: 'tok_other' }, 'order-42');
  expect(other.status).toBe(409);
  expect(other.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  await api.waitTerminal(first.body.orderId);
  expect(await api.creditUsed('c-idem')).toBe(100);
  expect(await api.stock('sku-idem')).toBe(4);
});

test('GET views: 404 with a code for unknown ids, NONE for an unseen payment', async () => {
  for (const p of ['/orders/nope', '/customers/nope', '/inventory/nope']) {
    const r = await api.request('GET', p);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  }
  expect(await api.payment('never-seen')).toEqual({ orderId: 'never-seen', status: 'NONE', amountCents: 0 });
});

test('invalid bodies are 400 INVALID_ARGUMENT with details and create no order', async () => {
  const creditBefore = await api.creditUsed('c-ok');
  const bad = await api.placeOrder({
    customerId: 'c-ok',
    items: [item('sku-ok', 0)],
    paymentToken: 'tok_visa',
    extra: 1,
  });
  expect(bad.status).toBe(400);
  expect(bad.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  const details = (bad.body as unknown as { error: { details: { path: string }[] } }).error.details.map(
    (d) => d.path,
  );
  expect(details).toEqual(expect.arrayContaining(['items.0.quantity']));
  const malformed = await api.request('POST', '/orders', {
    body: '{"customerId":',
    headers: { 'content-type': 'application/json' },
  });
  expect(malformed.status).toBe(400);
  expect(malformed.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  expect(await api.creditUsed('c-ok')).toBe(creditBefore);
});
