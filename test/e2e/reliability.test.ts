/**
 * Nothing lost, nothing doubled — on the whole stack: step timeouts while a command is still being retried,
 * dead letters (exhausted retries and poison messages), redrive after the saga finished, and verbatim replays
 * (duplicated and reversed) of every message ever published. Every test checks the invariants.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import type { Stack } from '../../emulator/stack';
import { replyTo, type CommandMessage } from '../../shared/runtime/messages';
import { commandMessage } from '../../shared/runtime/saga/binding';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { DeadLetter } from '../../shared/runtime/store/dead-letters';
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
    // The emulator retries ~1 s then ~3 s apart whatever the backoff: 5 deliveries are dead-lettered after ~13 s
    // (longer on a loaded machine). The step timeout is far longer than the test: a dead letter must end its step.
    SAGA_STEP_TIMEOUT_MS: '300000',
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
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
  await recorder?.stop();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
  await db?.terminate();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
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

test('tok_unavailable: the command is dead-lettered, which times the step out at once → REJECTED/STEP_TIMEOUT, payment CANCELLED', async () => {
  const t0 = Date.now();
  const placed = await api.placeOrder(order('r-1', 'r-sku-1', 2, 'tok_unavailable'));
  const o = await api.waitTerminal(placed.body.orderId, 150_000);
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
  // The step timed out because of the dead letter (within seconds of its record), not at its 300 s deadline.
  const history = o.saga.history;
  const deadLettered = history.find((h) => h.type === 'COMMAND_DEAD_LETTERED');
  const timedOut = history.find((h) => h.type === 'STEP_TIMED_OUT');
  expect(deadLettered).toMatchObject({ step: 'payment', reason: 'MAX_DELIVERY_ATTEMPTS' });
  expect(timedOut).toMatchObject({ step: 'payment', reason: 'STEP_TIMEOUT' });
  const lagMs = Date.parse(timedOut!.at) - Date.parse(dl.recordedAt);
  expect(lagMs).toBeGreaterThanOrEqual(0);
  expect(lagMs).toBeLessThan(5000);
  process.stdout.write(
    `tok_unavailable: dead letter recorded after ${Date.parse(dl.recordedAt) - t0} ms, step timed out ${lagMs} ms later, terminal after ${terminalMs} ms\n`,
  );
  await expectInvariants();
}, 200_000);

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

test('forged messages move no money: a compensate for an APPROVED order and a reply named like a timeout are dead-lettered', async () => {
  const placed = await api.placeOrder(order('r-1', 'r-sku-1', 4));
  const o = await api.waitTerminal(placed.body.orderId);
  expect(o.status).toBe('APPROVED');
  const before = { credit: await api.creditUsed('r-1'), stock: await api.stock('r-sku-1') };
  const data = {
    orderId: o.orderId,
    customerId: 'r-1',
    items: [{ sku: 'r-sku-1', quantity: 4, unitPriceCents: 100 }],
    totalCents: 400,
    paymentToken: 'tok_visa',
  };
  // Exactly what the orchestrator would publish to compensate each step — but the saga never issued them.
  const forged = (['payment', 'inventory', 'credit'] as const).map((step) =>
    commandMessage(orderPlacement, o.orderId, data, { step, action: 'compensate', attempt: 1 }),
  );
  for (const m of forged) await recorder.publish(m.topic, JSON.stringify(m.data), m.attributes);
  // A reply whose id is the sweeper's timeout event id for this saga's first step.
  const reply = {
    ...replyTo(forged[2]!.data as CommandMessage, 'SUCCEEDED'),
    id: `timeout:${o.orderId}:credit:forward:1`,
  };
  await recorder.publish(TOPICS.sagaReplies, JSON.stringify(reply), { probe: 'forged-reply' });

  const records = await waitFor('forged messages dead-lettered', async () => {
    const mine = (await deadLetters()).filter(
      (d) => d.sagaId === o.orderId && ['NOT_ISSUED_BY_SAGA', 'ID_MISMATCH'].includes(d.reason),
    );
    return mine.length >= 4 ? mine : undefined;
  });
  expect(
    records
      .filter((d) => d.reason === 'NOT_ISSUED_BY_SAGA')
      .map((d) => d.sourceTopic)
      .sort(),
  ).toEqual([TOPICS.creditCommands, TOPICS.inventoryCommands, TOPICS.paymentCommands].sort());
  expect(records.find((d) => d.reason === 'ID_MISMATCH')).toMatchObject({ sourceTopic: TOPICS.sagaReplies });
  expect(await api.payment(o.orderId)).toMatchObject({ status: 'CHARGED', amountCents: 400 });
  expect(await api.creditUsed('r-1')).toBe(before.credit);
  expect(await api.stock('r-sku-1')).toBe(before.stock);
  expect((await api.order(o.orderId)).status).toBe('APPROVED');
  await expectInvariants();
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
  expect((JSON.parse(again.stdout) as unknown[])[0]).toMatchObject({ result: 'already-redriven' });
  const before = await api.order(dl!.sagaId!);
  // A replay of the dead letter itself (the same command arriving on its dead-letter topic again) is recorded and
  // finds its step's timeout already applied: the saga does not change.
  await recorder.publish(`${dl!.sourceTopic}-dlq`, dl!.data, dl!.attributes);
  await new Promise((res) => setTimeout(res, 3000));
  const record = (await deadLetters()).find((d) => d.id === dl!.id)!;
  expect(record.redrivenAt).not.toBeNull();
  const after = await api.order(dl!.sagaId!);
  expect(after.status).toBe('REJECTED');
  expect(after.saga).toEqual(before.saga);
  await expectInvariants();
});
