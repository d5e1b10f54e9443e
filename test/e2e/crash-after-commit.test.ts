/**
 * Fault injection: the credit participant and the orchestrator die (SIGKILL) right after every transaction
 * commits and before they publish. The committed outbox record must still be published — by the redelivered
 * duplicate or by the sweeper — so every saga finishes, and nothing is applied twice.
 */
import type { Stack } from '../../emulator/stack';
import type { ApiClient } from '../support/api-client';
import { startTestStack } from '../support/test-stack';
import { settle } from '../support/invariants';
import { chaosSeed, mixedOrders } from '../support/mixed-orders';

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-crash', chaosSeed, {
    SAGA_FAULTS: 'crash-after-commit:credit,crash-after-commit:orchestrator',
    SAGA_STEP_TIMEOUT_MS: '30000',
    SAGA_SWEEP_INTERVAL_MS: '500',
    SAGA_OUTBOX_GRACE_MS: '1000',
    SAGA_MAX_DELIVERY_ATTEMPTS: '20',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

test('a crash between commit and publish never stalls or doubles a saga', async () => {
  const placed = [];
  for (const o of mixedOrders(5)) placed.push((await api.placeOrder(o)).body.orderId);
  const final = await Promise.all(placed.map((id) => api.waitTerminal(id, 150_000)));
  const report = await settle(stack.config.projectId, chaosSeed);
  const restarts = stack.restarts();
  process.stdout.write(
    `crash-after-commit: credit restarted ${restarts.credit}×, orchestrator ${restarts.orchestrator}×\n`,
  );
  expect(restarts.credit).toBeGreaterThan(0);
  expect(restarts.orchestrator).toBeGreaterThan(0);
  expect(final.every((o) => o.status !== 'PENDING')).toBe(true);
  // Slow (every commit costs a process restart) but never stalled: every saga ends, approvals included.
  expect(report.approved).toBeGreaterThan(0);
  expect(report.violations).toEqual([]);
  expect(report.failed).toBe(0);
}, 200_000);
