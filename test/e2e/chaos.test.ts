/**
 * Chaos through the harness: a batch of mixed orders while function processes are SIGKILLed at random. The
 * harness restarts them (as Cloud Run would); Pub/Sub redelivery, the outbox and the sweeper finish every saga.
 * Every order must end terminal and the invariants (credit, stock, payments) must hold.
 */
import type { Stack } from '../../emulator/stack';
import { FUNCTION_KEYS } from '../../shared/topology';
import type { ApiClient } from '../support/api-client';
import { startTestStack } from '../support/test-stack';
import { settle } from '../support/invariants';
import { chaosSeed, mixedOrders } from '../support/mixed-orders';

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack('e2e-chaos', chaosSeed, {
    SAGA_STEP_TIMEOUT_MS: '20000',
    SAGA_SWEEP_INTERVAL_MS: '500',
    SAGA_OUTBOX_GRACE_MS: '1000',
  }));
}, 120_000);

afterAll(async () => stack?.stop());

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** A client that survives an api crash: a 5xx or a dropped connection is retried with the same Idempotency-Key. */
async function placeWithRetry(order: unknown, key: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await api.placeOrder(order, key);
      if (r.status === 202) return r.body.orderId;
      if (r.status < 500 || attempt >= 20) throw new Error(`POST /orders → ${r.status}`);
    } catch (err) {
      if (attempt >= 20) throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('random SIGKILLs of function processes lose nothing and double nothing', async () => {
  const orders = mixedOrders(30);
  let kills = 0;
  let killing = true;
  const killed: Record<string, number> = {};
  const random = lcg(20261121);
  const killer = (async () => {
    while (killing) {
      await new Promise((r) => setTimeout(r, 300 + random() * 400));
      if (!killing) break;
      const victim = FUNCTION_KEYS[Math.floor(random() * FUNCTION_KEYS.length)]!;
      stack.kill(victim, 'SIGKILL');
      killed[victim] = (killed[victim] ?? 0) + 1;
      kills += 1;
    }
  })();

  const placed: string[] = [];
  for (let i = 0; i < orders.length; i += 5) {
    const batch = await Promise.all(
      orders.slice(i, i + 5).map((o, j) => placeWithRetry(o, `chaos-${i + j}`)),
    );
    placed.push(...batch);
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

  const final = await Promise.all(placed.map((id) => api.waitTerminal(id, 150_000)));
  const report = await settle(stack.config.projectId, chaosSeed);
  const restarts = Object.values(stack.restarts()).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `chaos: ${kills} kills ${JSON.stringify(killed)}, ${restarts} restarts, ${report.approved} approved, ${report.rejected} rejected, ${report.failed} failed of ${report.orders}\n`,
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
}, 240_000);
