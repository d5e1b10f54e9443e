/**
 * The sweeper against the real emulators: one tick drains a backlog larger than its batch (outbox and overdue
 * sagas), an item that keeps failing does not block the items behind it, and an overdue command is settled by where
 * it really is — answered (the recorded reply is applied), queued behind a busy participant (postponed), or lost
 * (timed out). Also: an order whose first publish failed is still accepted (202) and delivered by the sweeper.
 */
import { orderPlacer } from '../support/place';
import { creditParticipant } from '../../functions/credit/service';
import { sweep } from '../../shared/runtime/sweeper';
import { commandSchema, type CommandMessage } from '../../shared/runtime/messages';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { TOPICS } from '../../shared/topology';
import { integrationEnv, sleep, type IntegrationEnv, type Tap } from '../support/integration';

const STEP_TIMEOUT_MS = 1500;
const BATCH = 5;

let env: IntegrationEnv;
let credit: Tap;
let service: ReturnType<typeof orderPlacer>;

beforeAll(async () => {
  env = await integrationEnv('it-sweep', {
    SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS),
    SAGA_SWEEP_BATCH: String(BATCH),
    SAGA_OUTBOX_GRACE_MS: '0',
    // Every first command of an order fails to publish after its commit: only the sweeper delivers them.
    SAGA_FAULTS: 'fail-publish:api',
  });
  credit = await env.tap(TOPICS.creditCommands);
  service = orderPlacer(env.ctx);
  await env.seed([{ customerId: 'c-1', creditLimitCents: 10_000_000 }], []);
});
afterAll(async () => env.close());

const body = {
  customerId: 'c-1',
  items: [{ sku: 'sku-1', quantity: 1, unitPriceCents: 100 }],
  paymentToken: 'tok_visa',
};

async function saga(id: string): Promise<SagaDoc> {
  const doc = await env.ctx.sagas.get(id);
  if (!doc) throw new Error(`no saga ${id}`);
  return doc;
}

function creditCommand(orderId: string): CommandMessage {
  const found = credit.received().find((c) => c.sagaId === orderId && c.action === 'forward');
  if (!found) throw new Error(`no credit command for ${orderId}`);
  return commandSchema.parse(found);
}

async function placeMany(n: number): Promise<string[]> {
  const placed = await Promise.all(Array.from({ length: n }, () => service.place(body, null)));
  return placed.map((p) => p.orderId);
}

// First: no other test's overdue sagas may slow down the pass that must find this participant answering.
test('an overdue command is settled by where it is: answered → reply applied; queued behind a busy participant → postponed', async () => {
  const [answered, queued] = await placeMany(2);
  await sweep(env.ctx);
  await credit.take(credit.received().length + 2);
  await sleep(STEP_TIMEOUT_MS - 400);
  // The participant answers the first command (its reply goes to saga-replies, where no orchestrator runs in this
  // test: only the sweeper can apply it) and is therefore answering work; the second command is still queued.
  await runTxParticipant(env.ctx, creditParticipant(env.ctx.db), creditCommand(answered!));
  await sleep(600);
  const report = await sweep(env.ctx);
  expect(report.recovered).toBeGreaterThanOrEqual(1);
  expect(report.postponed).toBeGreaterThanOrEqual(1);
  const a = await saga(answered!);
  expect(a.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
  const q = await saga(queued!);
  expect(q.status).toBe('STARTED');
  expect(q.steps[0]!.status).toBe('RUNNING');
  expect(q.awaiting).toMatchObject({ step: 'credit', postponed: 1 });
  expect(q.deadlineAt!).toBeGreaterThan(q.awaiting!.issuedAt! + STEP_TIMEOUT_MS);
  expect(q.history.map((h) => h.type)).toContain('STEP_QUEUED');
  // Once the participant has answered nothing for a whole step timeout, the queued command is lost: timed out.
  await sleep(STEP_TIMEOUT_MS + 200);
  await sweep(env.ctx);
  expect(await saga(queued!)).toMatchObject({ status: 'COMPENSATING', failureReason: 'STEP_TIMEOUT' });
});

test('an order whose first publish fails is accepted; one tick delivers a backlog larger than a batch', async () => {
  const ids = await placeMany(3 * BATCH + 2);
  await sleep(500);
  expect(credit.received().filter((c) => ids.includes(String(c.sagaId)))).toHaveLength(0);
  const report = await sweep(env.ctx);
  expect(report.republished).toBe(ids.length);
  // The tap also holds the previous test's commands: wait for these orders' own, not for a count.
  const forwardOf = (got: Record<string, unknown>[]): Set<string> =>
    new Set(
      got
        .filter((c) => c.action === 'forward' && ids.includes(String(c.sagaId)))
        .map((c) => String(c.sagaId)),
    );
  const got = await credit.until((r) => forwardOf(r).size === ids.length);
  expect(forwardOf(got)).toEqual(new Set(ids));
});

test('one tick times out a backlog of overdue sagas larger than a batch; poisoned items at its head do not block it', async () => {
  // Oldest deadlines first: a saga of a type this code does not know, and one whose data fails its schema.
  const poison = (sagaId: string, type: string, data: Record<string, unknown>) =>
    env.db
      .collection(COLLECTIONS.sagas)
      .doc(sagaId)
      .set({
        sagaId,
        type,
        status: 'STARTED',
        currentStep: 'credit',
        failureReason: null,
        failedReason: null,
        steps: [{ name: 'credit', status: 'RUNNING', attempts: 1, compensationAttempts: 0 }],
        awaiting: { step: 'credit', action: 'forward', attempt: 1, issuedAt: 1 },
        deadlineAt: 1 + STEP_TIMEOUT_MS,
        history: [],
        version: 1,
        data,
        createdAt: 1,
        updatedAt: 1,
      });
  await poison('poison-type', 'no-such-saga', {});
  await poison('poison-data', 'order-placement', { orderId: 'poison-data' });
  const ids = await placeMany(3 * BATCH + 1);
  await sweep(env.ctx); // deliver their commands (nobody answers them)
  await sleep(STEP_TIMEOUT_MS + 200);
  const report = await sweep(env.ctx);
  expect(report.errors).toBeGreaterThanOrEqual(2);
  // (The previous test's sagas, whose commands nobody answers either, are overdue too.)
  expect(report.timedOut).toBeGreaterThanOrEqual(ids.length);
  for (const id of ids) {
    expect(await saga(id)).toMatchObject({ status: 'COMPENSATING', failureReason: 'STEP_TIMEOUT' });
  }
  // The poisoned ones are untouched (never corrupted), and still found by later ticks.
  expect(await saga('poison-type')).toMatchObject({ status: 'STARTED', version: 1 });
  expect(await saga('poison-data')).toMatchObject({ status: 'STARTED', version: 1 });
});
