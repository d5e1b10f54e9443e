/**
 * A step times out while its command is still being retried, and the gateway recovers after the saga gave up:
 * the refund (compensation) reaches the payment participant before the late successful charge, so no money
 * may stay charged. With a 5-10 s retry backoff, tok_flaky's 3rd delivery (the one that succeeds) comes ~12-20 s
 * after the first, long after the 8 s step timeout; 8 s leaves the earlier steps ample time on a loaded machine.
 */
import { Firestore } from '@google-cloud/firestore';
import type { Stack } from '../../emulator/stack';
import { commandId } from '../../shared/runtime/messages';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import { inboxKey } from '../../shared/runtime/store/inbox';
import type { ApiClient } from '../support/api-client';
import { startTestStack } from '../support/test-stack';
import { settle, type Seed } from '../support/invariants';

const seed: Seed = {
  customers: [{ customerId: 't-1', creditLimitCents: 1_000_000 }],
  products: [{ sku: 't-sku', available: 100 }],
};

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-race', seed, {
    SAGA_STEP_TIMEOUT_MS: '8000',
    SAGA_SWEEP_INTERVAL_MS: '250',
    SAGA_RETRY_MIN_BACKOFF_S: '5',
    SAGA_RETRY_MAX_BACKOFF_S: '10',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

test('timed-out payments keep no money, whichever of refund and late charge wins', async () => {
  const placed = await Promise.all(
    [1, 2, 3].map(() =>
      api.placeOrder({
        customerId: 't-1',
        items: [{ sku: 't-sku', quantity: 1, unitPriceCents: 700 }],
        paymentToken: 'tok_flaky',
      }),
    ),
  );
  const orders = await Promise.all(placed.map((p) => api.waitTerminal(p.body.orderId)));
  // Let the late charge attempts land: wait until every charge command was finally processed (inbox record).
  const db = new Firestore({ projectId: stack.config.projectId });
  try {
    const charged = (o: { orderId: string; saga: { steps: { name: string; status: string }[] } }) =>
      o.saga.steps.find((s) => s.name === 'payment')!.status === 'PENDING'
        ? Promise.resolve(true)
        : db
            .collection(COLLECTIONS.inbox)
            .doc(inboxKey('payment', commandId(o.orderId, 'payment', 'forward', 1)))
            .get()
            .then((d) => d.exists);
    // Capped: the emulator sometimes never redelivers a nacked message of an unordered subscription (README).
    const until = Date.now() + 40_000;
    while (!(await Promise.all(orders.map(charged))).every(Boolean) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await db.terminate();
  }
  let timedOut = 0;
  for (const o of orders) {
    const payment = await api.payment(o.orderId);
    if (o.status === 'APPROVED') {
      expect(payment.status).toBe('CHARGED');
    } else {
      expect(o.rejectionReason).toBe('STEP_TIMEOUT');
      const paymentStep = o.saga.steps.find((s) => s.name === 'payment')!;
      if (paymentStep.status === 'PENDING') {
        // On a loaded machine an earlier step can time out first: then payment never ran.
        expect(payment.status).toBe('NONE');
      } else {
        timedOut += 1;
        expect(paymentStep.status).toBe('COMPENSATED');
        expect(['CANCELLED', 'REFUNDED']).toContain(payment.status);
      }
    }
  }
  expect(timedOut).toBeGreaterThan(0);
  const report = await settle(stack.config.projectId, seed);
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);
});
