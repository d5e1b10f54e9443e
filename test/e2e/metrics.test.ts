/**
 * OpenTelemetry metrics on the whole stack (SAGA_METRICS=local): after an approved order, a rejected one and one
 * whose charge is dead-lettered, the metrics every function process wrote — read with `npm run saga -- metrics
 * --json` and on the console's Metrics page — show 3 sagas started, how they finished, the dead letter with its
 * topic and reason, the compensations, and step latencies, queue times and sweeper lag measured.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Stack } from '../../emulator/stack';
import { METRICS } from '../../shared/runtime/telemetry/metrics';
import { total, type MetricsSummary } from '../../shared/runtime/telemetry/metrics-file';
import type { ApiClient } from '../support/api-client';
import type { Seed } from '../support/invariants';
import { startTestStack } from '../support/test-stack';

const seed: Seed = {
  customers: [
    { customerId: 'm-ok', creditLimitCents: 1_000_000 },
    { customerId: 'm-poor', creditLimitCents: 0 },
  ],
  products: [{ sku: 'm-sku', available: 50 }],
};

let stack: Stack;
let api: ApiClient;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ stack, api, env } = await startTestStack('e2e-metrics', seed, {
    SAGA_METRICS: 'local',
    SAGA_METRICS_EXPORT_MS: '1000',
    // A dead letter must end the charge's step (the step timeout is far longer than the test).
    SAGA_STEP_TIMEOUT_MS: '300000',
    SAGA_SWEEP_INTERVAL_MS: '500',
    SAGA_RETRY_MIN_BACKOFF_S: '1',
    SAGA_RETRY_MAX_BACKOFF_S: '2',
  }));
}, 120_000);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
afterAll(async () => stack?.stop());

const order = (customerId: string, paymentToken: string) => ({
  customerId,
  items: [{ sku: 'm-sku', quantity: 1, unitPriceCents: 100 }],
  paymentToken,
});

function cliMetrics(): MetricsSummary & { mode: string } {
  const r = spawnSync(
    process.execPath,
    [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), 'metrics', '--json'],
    { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as MetricsSummary & { mode: string };
}

test('3 orders: started 3, finished by outcome, the dead letter with its reason, latencies measured', async () => {
  const placed = await Promise.all([
    api.placeOrder(order('m-ok', 'tok_visa')),
    api.placeOrder(order('m-poor', 'tok_visa')),
    api.placeOrder(order('m-ok', 'tok_unavailable')),
  ]);
  const [approved, rejected, deadLettered] = await Promise.all(
    placed.map((p) => api.waitTerminal(p.body.orderId, 150_000)),
  );
  expect(approved).toMatchObject({ status: 'APPROVED' });
  expect(rejected).toMatchObject({ status: 'REJECTED', rejectionReason: 'CREDIT_LIMIT_EXCEEDED' });
  expect(deadLettered).toMatchObject({ status: 'REJECTED', rejectionReason: 'STEP_TIMEOUT' });

  // Every process exports every second: wait until the last facts (the dead-lettered order's end) are written.
  const order1 = { saga_type: 'order-placement', saga_version: '1' };
  let m = cliMetrics();
  for (const until = Date.now() + 30_000; Date.now() < until;) {
    if (total(m, METRICS.finished) >= 3 && total(m, METRICS.compensations) >= 3) break;
    await new Promise((r) => setTimeout(r, 500));
    m = cliMetrics();
  }
  expect(m.mode).toBe('local');
  expect(total(m, METRICS.started, order1)).toBe(3);
  expect(total(m, METRICS.finished, { ...order1, outcome: 'SUCCEEDED' })).toBe(1);
  expect(total(m, METRICS.finished, { ...order1, outcome: 'ABORTED' })).toBe(2);
  expect(total(m, METRICS.finished, { outcome: 'FAILED' })).toBe(0);
  expect(total(m, METRICS.deadLetters, { topic: 'payment-commands', reason: 'MAX_DELIVERY_ATTEMPTS' })).toBe(
    1,
  );
  expect(total(m, METRICS.deadLetters)).toBe(1);
  // The dead-lettered charge: the payment step TIMED_OUT, then payment, inventory and credit compensated.
  expect(total(m, METRICS.stepDuration, { step: 'payment', action: 'forward', outcome: 'TIMED_OUT' })).toBe(
    1,
  );
  for (const step of ['payment', 'inventory', 'credit']) {
    expect(total(m, METRICS.compensations, { step })).toBe(1);
  }
  // Step latency: both credit replies (SUCCEEDED, FAILED), two inventory, one charge; every command timed.
  expect(total(m, METRICS.stepDuration, { step: 'credit', action: 'forward' })).toBe(3);
  expect(total(m, METRICS.stepDuration, { step: 'credit', outcome: 'FAILED' })).toBe(1);
  expect(total(m, METRICS.stepDuration, { step: 'payment', action: 'forward', outcome: 'SUCCEEDED' })).toBe(
    1,
  );
  expect(total(m, METRICS.stepDuration)).toBeGreaterThan(0);
  expect(
    total(m, METRICS.queueDuration, { function: 'orchestrator', topic: 'saga-replies' }),
  ).toBeGreaterThan(0);
  expect(total(m, METRICS.sweeperLag)).toBeGreaterThan(0);
  expect(total(m, METRICS.admissionRefusals)).toBe(0);
  expect(m.sources.map((s) => s.function)).toEqual(
    expect.arrayContaining(['api', 'orchestrator', 'credit', 'payment', 'deadLetters', 'sweeper']),
  );

  // The console shows the same figures.
  const res = await fetch(`${stack.consoleUrl}metrics`);
  expect(res.status).toBe(200);
  const page = await res.text();
  expect(page).toMatch(/data-metric="sagas started">\s*<div class="card-value">3</);
  expect(page).toMatch(/data-metric="dead letters">\s*<div class="card-value">1</);
  expect(page).toContain('reason=MAX_DELIVERY_ATTEMPTS topic=payment-commands');
}, 240_000);
