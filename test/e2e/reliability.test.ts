/**
 * Nothing lost, nothing doubled — on the whole stack: step timeouts while a command is still being retried,
 * dead letters (exhausted retries and poison messages), redrive after the saga finished, and verbatim replays
 * (duplicated and reversed) of every message ever published. Every test checks the invariants.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import type { Stack } from '../../emulator/stack';
import { COLLECTIONS } from '../../shared/store/collections';
import type { DeadLetter } from '../../shared/store/dead-letters';
import { TOPICS } from '../../shared/topology';
import type { ApiClient } from '../support/api-client';
import { startTestStack } from '../support/test-stack';
import { checkInvariants, settle, type Seed } from '../support/invariants';
import { Recorder } from '../support/recorder';

const seed: Seed = {
  customers: [
    { customerId: 'r-1', creditLimitCents: 1_000_000 },
    { customerId: 'r-2', creditLimitCents: 5_000 },
  ],
  products: [
    { sku: 'r-sku-1', available: 50 },
    { sku: 'r-sku-2', available: 3 },
  ],
};

let stack: Stack;
let api: ApiClient;
let recorder: Recorder;
let db: Firestore;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ stack, api, env } = await startTestStack('e2e-reliab', seed, {
    // The emulator retries ~1 s then ~3 s apart whatever the backoff: 5 deliveries are dead-lettered after ~13 s,
    // before the step times out (15 s).
    SAGA_STEP_TIMEOUT_MS: '15000',
    SAGA_SWEEP_INTERVAL_MS: '250',
    SAGA_OUTBOX_GRACE_MS: '1000',
    SAGA_RETRY_MIN_BACKOFF_S: '1',
    SAGA_RETRY_MAX_BACKOFF_S: '2',
  }));
  recorder = await Recorder.start(stack.config.projectId, [
    TOPICS.creditCommands,
    TOPICS.inventoryCommands,
    TOPICS.paymentCommands,
    TOPICS.sagaReplies,
  ]);
  db = new Firestore({ projectId: stack.config.projectId });
}, 120_000);

afterAll(async () => {
  await recorder?.stop();
  await db?.terminate();
  await stack?.stop();
});

const order = (customerId: string, sku: string, quantity: number, paymentToken = 'tok_visa') => ({
  customerId,
  items: [{ sku, quantity, unitPriceCents: 100 }],
  paymentToken,
});

async function deadLetters(): Promise<DeadLetter[]> {
  return (await db.collection(COLLECTIONS.deadLetters).get()).docs.map((d) => d.data() as DeadLetter);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectInvariants(): Promise<void> {
  const report = await settle(stack.config.projectId, seed);
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);
}

test('tok_unavailable: the payment step times out → REJECTED/STEP_TIMEOUT, payment CANCELLED, the command is dead-lettered', async () => {
  const t0 = Date.now();
  const placed = await api.placeOrder(order('r-1', 'r-sku-1', 2, 'tok_unavailable'));
  const o = await api.waitTerminal(placed.body.orderId);
  const terminalMs = Date.now() - t0;
  expect(o).toMatchObject({ status: 'REJECTED', rejectionReason: 'STEP_TIMEOUT' });
  expect(o.saga.steps.map((s) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED']);
  expect(await api.payment(o.orderId)).toMatchObject({ status: 'CANCELLED' });
  const dl = await waitFor('payment dead letter', async () =>
    (await deadLetters()).find((d) => d.sagaId === o.orderId && d.sourceTopic === TOPICS.paymentCommands),
  );
  expect(dl.reason).toBe('MAX_DELIVERY_ATTEMPTS');
  expect(dl.deliveryCount).toBe(stack.config.maxDeliveryAttempts);
  expect(JSON.parse(dl.data)).toMatchObject({ type: 'saga.command', step: 'payment', action: 'forward' });
  process.stdout.write(
    `tok_unavailable: terminal after ${terminalMs} ms, dead letter after ${Date.now() - t0} ms\n`,
  );
  await expectInvariants();
});

test('poison messages are dead-lettered at once with their reason, never retried', async () => {
  const cases: [string, string, string][] = [
    [TOPICS.creditCommands, 'not json at all', 'NOT_JSON'],
    [TOPICS.inventoryCommands, JSON.stringify({ v: 1, type: 'saga.command', id: 'x' }), 'SCHEMA_VIOLATION'],
    [TOPICS.paymentCommands, JSON.stringify({ v: 1, type: 'saga.explode' }), 'UNKNOWN_TYPE'],
    [TOPICS.sagaReplies, JSON.stringify([1, 2, 3]), 'SCHEMA_VIOLATION'],
    [TOPICS.sagaTicks, '{"type":', 'NOT_JSON'],
  ];
  const t0 = Date.now();
  for (const [topic, data] of cases) await recorder.publish(topic, data, { probe: `poison-${topic}` });
  const found = await waitFor('poison records', async () => {
    const all = (await deadLetters()).filter((d) => d.attributes.probe?.startsWith('poison-'));
    return all.length >= cases.length ? all : undefined;
  });
  const elapsed = Date.now() - t0;
  for (const [topic, , reason] of cases) {
    const d = found.find((x) => x.attributes.probe === `poison-${topic}`);
    expect(d).toMatchObject({ sourceTopic: topic, reason });
  }
  process.stdout.write(
    `poison → dead-letter record: ${cases.length} messages recorded within ${elapsed} ms\n`,
  );
  expect(found).toHaveLength(cases.length);
});

test('verbatim replays of every message ever published, duplicated and reversed, change nothing', async () => {
  const placed = await Promise.all([
    api.placeOrder(order('r-1', 'r-sku-1', 3)),
    api.placeOrder(order('r-2', 'r-sku-2', 2, 'tok_chargeDeclined')),
    api.placeOrder(order('r-2', 'r-sku-1', 100)),
    api.placeOrder(order('r-1', 'r-sku-2', 1)),
  ]);
  for (const p of placed) await api.waitTerminal(p.body.orderId);
  await expectInvariants();
  const before = await checkInvariants(stack.config.projectId, seed);
  const statuses = await Promise.all(placed.map(async (p) => (await api.order(p.body.orderId)).saga));
  const credit = await Promise.all(seed.customers.map((c) => api.creditUsed(c.customerId)));
  const stock = await Promise.all(seed.products.map((p) => api.stock(p.sku)));

  const replay = [...recorder.messages].reverse();
  expect(replay.length).toBeGreaterThanOrEqual(placed.length * 4);
  for (const m of [...replay, ...replay]) await recorder.publish(m.topic, m.data, m.attributes);
  await new Promise((r) => setTimeout(r, 4000));

  const after = await settle(stack.config.projectId, seed);
  expect(after.violations).toEqual([]);
  expect({ ...after, violations: [] }).toEqual({ ...before, violations: [] });
  expect(await Promise.all(placed.map(async (p) => (await api.order(p.body.orderId)).saga))).toEqual(
    statuses,
  );
  expect(await Promise.all(seed.customers.map((c) => api.creditUsed(c.customerId)))).toEqual(credit);
  expect(await Promise.all(seed.products.map((p) => api.stock(p.sku)))).toEqual(stock);
});

test('redrive (CLI) of a dead letter after its saga finished changes nothing and marks the record redriven', async () => {
  const dl = (await deadLetters()).find((d) => d.reason === 'MAX_DELIVERY_ATTEMPTS');
  expect(dl).toBeDefined();
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const list = cli('dlq', 'list', '--json');
  expect(list.status).toBe(0);
  const listed = JSON.parse(list.stdout) as { id: string; sourceTopic: string }[];
  expect(listed.map((d) => d.id)).toContain(dl!.id);

  const r = cli('dlq', 'redrive', dl!.id, '--json');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([{ id: dl!.id, result: 'redriven', detail: dl!.sourceTopic }]);
  const again = cli('dlq', 'redrive', dl!.id, '--json');
  expect(JSON.parse(again.stdout)[0]).toMatchObject({ result: 'already-redriven' });
  await new Promise((res) => setTimeout(res, 3000));
  const record = (await deadLetters()).find((d) => d.id === dl!.id)!;
  expect(record.redrivenAt).not.toBeNull();
  if (dl!.sagaId) expect((await api.order(dl!.sagaId)).status).toBe('REJECTED');
  await expectInvariants();
});
