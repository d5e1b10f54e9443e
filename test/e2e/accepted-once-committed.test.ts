/**
 * `202` once committed (contract §3): when handing an order's first command to Pub/Sub fails after its
 * transaction committed, the api still answers 202 — the order exists — and the outbox + sweeper deliver the
 * command; a client that retried on an error without an Idempotency-Key would otherwise create a second order.
 * The api here fails every such publish (SAGA_FAULTS=fail-publish:api); nothing else is faulted.
 */
import { Firestore } from '@google-cloud/firestore';
import type { Stack } from '../../emulator/stack';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { ApiClient } from '../support/api-client';
import { settle, type Seed } from '../support/invariants';
import { startTestStack } from '../support/test-stack';

const seed: Seed = {
  customers: [{ customerId: 'p-1', creditLimitCents: 1_000_000 }],
  products: [{ sku: 'p-sku', available: 100 }],
};

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-committed', seed, {
    SAGA_FAULTS: 'fail-publish:api',
    SAGA_OUTBOX_GRACE_MS: '500',
    SAGA_SWEEP_INTERVAL_MS: '250',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

test('the api answers 202 when the publish after commit fails, and the order still completes', async () => {
  const order = {
    customerId: 'p-1',
    items: [{ sku: 'p-sku', quantity: 2, unitPriceCents: 300 }],
    paymentToken: 'tok_visa',
  };
  const placed = await Promise.all([1, 2, 3].map(() => api.placeOrder(order)));
  for (const p of placed) {
    expect(p.status).toBe(202);
    expect(p.body.status).toBe('PENDING');
  }
  const done = await Promise.all(placed.map((p) => api.waitTerminal(p.body.orderId)));
  expect(done.map((o) => o.status)).toEqual(['APPROVED', 'APPROVED', 'APPROVED']);
  expect(await api.creditUsed('p-1')).toBe(3 * 600);
  expect(await api.stock('p-sku')).toBe(100 - 3 * 2);
  // Exactly one saga per POST.
  const db = new Firestore({ projectId: stack.config.projectId });
  try {
    expect((await db.collection(COLLECTIONS.sagas).get()).size).toBe(3);
  } finally {
    await db.terminate();
  }
  const report = await settle(stack.config.projectId, seed);
  expect(report.violations).toEqual([]);
});
