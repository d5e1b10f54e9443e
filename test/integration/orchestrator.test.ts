/**
 * The orchestrator against the real emulators: a saga started by the api's service publishes its first command;
 * replies drive it through the engine in transactions; duplicates and late replies change nothing; timeouts from
 * the sweeper compensate.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { orderPlacer, orderView, placeOrder } from '../support/place';
import { sweep } from '../../shared/runtime/sweeper';
import { processOnce } from '../../shared/runtime/consumer';
import { replySchema, replyTo, type CommandMessage } from '../../shared/runtime/messages';
import { replyMessage } from '../../shared/runtime/participants/transactional';
import { TOPICS } from '../../shared/topology';
import { integrationEnv, sleep, type IntegrationEnv, type Tap } from '../support/integration';

let env: IntegrationEnv;
let commands: Record<'credit' | 'inventory' | 'payment', Tap>;

beforeAll(async () => {
  env = await integrationEnv('it-orch', { SAGA_STEP_TIMEOUT_MS: '300', SAGA_OUTBOX_GRACE_MS: '0' });
  commands = {
    credit: await env.tap(TOPICS.creditCommands),
    inventory: await env.tap(TOPICS.inventoryCommands),
    payment: await env.tap(TOPICS.paymentCommands),
  };
});
afterAll(async () => env.close());

const body = {
  customerId: 'c-1',
  items: [{ sku: 'sku-1', quantity: 2, unitPriceCents: 1250 }],
  paymentToken: 'tok_visa',
};

async function commandFor(
  tap: Tap,
  orderId: string,
  pred: (c: CommandMessage) => boolean = () => true,
): Promise<CommandMessage> {
  const until = Date.now() + 15_000;
  for (;;) {
    const found = (tap.received() as unknown as CommandMessage[]).find(
      (c) => c.sagaId === orderId && pred(c),
    );
    if (found) return found;
    if (Date.now() > until) throw new Error(`no command for ${orderId}`);
    await sleep(25);
  }
}

/**
 * What a participant does when it answers `cmd` (without the business effect): records its reply in its inbox
 * record (the orchestrator applies only replies their participant recorded) and publishes it. Returns the reply.
 */
async function recordReply(cmd: CommandMessage, outcome: 'SUCCEEDED' | 'FAILED', reason?: string) {
  const reply = replyMessage(cmd, reason === undefined ? { outcome } : { outcome, reason });
  await processOnce(env.ctx, cmd.step, cmd.id, [], () => ({ outgoing: [reply] }));
  return replySchema.parse(reply.data);
}

/** The participant answers `cmd` and the orchestrator applies the reply. */
async function answer(cmd: CommandMessage, outcome: 'SUCCEEDED' | 'FAILED', reason?: string) {
  return env.ctx.orchestrator.onReply(await recordReply(cmd, outcome, reason));
}

async function saga(orderId: string) {
  const doc = await env.ctx.sagas.get(orderId);
  if (!doc) throw new Error('no saga');
  return doc;
}

test('a saga runs to SUCCEEDED; duplicate and late replies change nothing', async () => {
  const placed = await placeOrder(env.ctx, body, null);
  const credit = await commandFor(commands.credit, placed.orderId);
  expect(credit.payload).toEqual({ orderId: placed.orderId, customerId: 'c-1', amountCents: 2500 });

  const creditOk = await recordReply(credit, 'SUCCEEDED');
  expect(await env.ctx.orchestrator.onReply(creditOk)).toMatchObject({ duplicate: false });
  expect(await env.ctx.orchestrator.onReply(creditOk)).toMatchObject({ duplicate: true });
  const inventory = await commandFor(commands.inventory, placed.orderId);
  await answer(inventory, 'SUCCEEDED');
  const payment = await commandFor(commands.payment, placed.orderId);
  await answer(payment, 'SUCCEEDED');

  const done = await saga(placed.orderId);
  expect(done.status).toBe('SUCCEEDED');
  expect(done.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  // A late failure reply its participant never sent (a forged or corrupted copy) cannot reopen a finished saga.
  await expect(
    env.ctx.orchestrator.onReply({
      ...replyTo(payment, 'FAILED', 'PAYMENT_DECLINED'),
      id: `${payment.id}:x`,
    }),
  ).rejects.toMatchObject({ reason: 'NOT_SENT_BY_PARTICIPANT' });
  expect((await saga(placed.orderId)).version).toBe(done.version);
  await sleep(300);
  expect(commands.credit.received().filter((c) => c.sagaId === placed.orderId)).toHaveLength(1);
});

test('a reply its participant did not record is refused: a forged SUCCEEDED does not advance the saga', async () => {
  const placed = await placeOrder(env.ctx, body, null);
  const credit = await commandFor(commands.credit, placed.orderId);
  await expect(env.ctx.orchestrator.onReply(replyTo(credit, 'SUCCEEDED'))).rejects.toMatchObject({
    reason: 'NOT_SENT_BY_PARTICIPANT',
  });
  expect((await saga(placed.orderId)).steps[0]!.status).toBe('RUNNING');
  // The participant's genuine answer (FAILED) is applied, and the forged SUCCEEDED stays refused afterwards.
  await answer(credit, 'FAILED', 'CREDIT_LIMIT_EXCEEDED');
  expect(await saga(placed.orderId)).toMatchObject({
    status: 'ABORTED',
    failureReason: 'CREDIT_LIMIT_EXCEEDED',
  });
});

test('a business failure compensates earlier steps in reverse and aborts', async () => {
  const placed = await placeOrder(env.ctx, body, null);
  await answer(await commandFor(commands.credit, placed.orderId), 'SUCCEEDED');
  const inv = await commandFor(commands.inventory, placed.orderId);
  await answer(inv, 'FAILED', 'OUT_OF_STOCK');
  const release = await commandFor(commands.credit, placed.orderId, (c) => c.action === 'compensate');
  expect((await saga(placed.orderId)).status).toBe('COMPENSATING');
  await answer(release, 'SUCCEEDED');
  const s = await saga(placed.orderId);
  expect(s.status).toBe('ABORTED');
  expect(s.failureReason).toBe('OUT_OF_STOCK');
  expect(s.steps.map((x) => x.status)).toEqual(['COMPENSATED', 'FAILED', 'PENDING']);
});

test('the sweeper times out an overdue step and the saga compensates it', async () => {
  const placed = await placeOrder(env.ctx, body, null);
  await commandFor(commands.credit, placed.orderId);
  await sleep(400);
  const report = await sweep(env.ctx);
  expect(report.timedOut).toBeGreaterThanOrEqual(1);
  const s = await saga(placed.orderId);
  expect(s.status).toBe('COMPENSATING');
  expect(s.failureReason).toBe('STEP_TIMEOUT');
  const release = await commandFor(commands.credit, placed.orderId, (c) => c.action === 'compensate');
  // Two sweepers at once do no harm: the timeout is one inbox-deduplicated event.
  await Promise.all([sweep(env.ctx), sweep(env.ctx)]);
  await answer(release, 'SUCCEEDED');
  expect((await saga(placed.orderId)).status).toBe('ABORTED');
});

test('the same Idempotency-Key with the same body starts one saga; another body is refused', async () => {
  const service = orderPlacer(env.ctx);
  // Concurrent first uses of one key: both get the same order.
  const [a, b] = await Promise.all([service.place(body, 'key-1'), service.place({ ...body }, 'key-1')]);
  const orders = [a, b];
  expect(a.orderId).toBe(b.orderId);
  const again = await service.place(body, 'key-1');
  expect(orders.every((o) => o.orderId === again.orderId)).toBe(true);
  await expect(service.place({ ...body, paymentToken: 'tok_other' }, 'key-1')).rejects.toMatchObject({
    status: 409,
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
  await sleep(300);
  expect(
    commands.credit.received().filter((c) => c.sagaId === again.orderId && c.action === 'forward'),
  ).toHaveLength(1);
});

test('a compensation that never completes makes the saga FAILED: visible in the view and in `saga list --status FAILED`', async () => {
  const placed = await placeOrder(env.ctx, body, null);
  await commandFor(commands.credit, placed.orderId);
  // No participant answers: the forward step times out, then each compensation attempt times out.
  for (let i = 0; i < 10 && (await saga(placed.orderId)).status !== 'FAILED'; i++) {
    await sleep(350);
    await sweep(env.ctx);
  }
  const failed = await saga(placed.orderId);
  expect(failed.status).toBe('FAILED');
  expect(failed.failedReason).toBe('compensation of credit did not complete after 3 attempts');
  const view = orderView(failed);
  expect(view).toMatchObject({ status: 'PENDING', rejectionReason: null });
  expect(view.saga).toMatchObject({ status: 'FAILED', failedReason: failed.failedReason });

  const cli = spawnSync(
    process.execPath,
    [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), 'list', '--status', 'FAILED', '--json'],
    { env: { ...process.env, GOOGLE_CLOUD_PROJECT: env.projectId }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(cli.stderr).toBe('');
  expect(cli.status).toBe(0);
  const listed = JSON.parse(cli.stdout) as { sagaId: string; sagaStatus: string; reason: string }[];
  expect(listed.find((r) => r.sagaId === placed.orderId)).toMatchObject({
    sagaStatus: 'FAILED',
    reason: failed.failedReason,
  });
  expect(listed.every((r) => r.sagaStatus === 'FAILED')).toBe(true);

  // The operator fixes the cause and the compensation is confirmed at last: the saga resumes and aborts.
  const release = await commandFor(commands.credit, placed.orderId, (c) => c.action === 'compensate');
  await answer(release, 'SUCCEEDED');
  const resumed = await saga(placed.orderId);
  expect(resumed.status).toBe('ABORTED');
  expect(orderView(resumed)).toMatchObject({ status: 'REJECTED', rejectionReason: 'STEP_TIMEOUT' });
});
