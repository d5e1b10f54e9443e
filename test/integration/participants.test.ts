/**
 * Credit, inventory and payment participants against the real Firestore and Pub/Sub emulators:
 * effects, business failures, duplicates (effects once), compensation before forward (tombstones), and
 * concurrent commands on one customer / one sku (no over-credit, no oversell).
 */
import { creditParticipant } from '../../functions/credit/service';
import { inventoryParticipant } from '../../functions/inventory/service';
import { PaymentService } from '../../functions/payment/service';
import type { PaymentDoc } from '../../shared/participants/payment';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import { TOPICS } from '../../shared/topology';
import { TransientError } from '../../shared/runtime/errors';
import { replySchema, type ReplyMessage } from '../../shared/runtime/messages';
import { command, issue, order, redeliverUntilDone } from '../support/commands';
import { integrationEnv, type IntegrationEnv, type Tap } from '../support/integration';

let env: IntegrationEnv;
let replies: Tap;

beforeAll(async () => {
  env = await integrationEnv('it-part');
  replies = await env.tap(TOPICS.sagaReplies);
  await env.seed(
    [
      { customerId: 'alice', creditLimitCents: 10_000 },
      { customerId: 'bob', creditLimitCents: 1_000 },
      { customerId: '__x__', creditLimitCents: 500 },
      { customerId: 'crowd', creditLimitCents: 1_000 },
    ],
    [
      { sku: 'apple', available: 10 },
      { sku: 'pear', available: 1 },
      { sku: 'hot', available: 5 },
    ],
  );
});
afterAll(async () => env.close());

const credit = () => creditParticipant(env.db);
const inventory = () => inventoryParticipant(env.db);
const payments = () => new PaymentService(env.db, env.ctx, env.ctx.gateway);

async function repliesFor(orderId: string, n: number): Promise<ReplyMessage[]> {
  const until = Date.now() + 15_000;
  for (;;) {
    const mine = replies.received().filter((r) => r.sagaId === orderId);
    if (mine.length >= n || Date.now() > until) return mine.map((r) => replySchema.parse(r));
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function payment(orderId: string): Promise<PaymentDoc | undefined> {
  return (await env.db.collection(COLLECTIONS.payments).doc(orderId).get()).data() as PaymentDoc | undefined;
}

async function ledgerState(orderId: string): Promise<string | undefined> {
  return (await env.db.collection(COLLECTIONS.gatewayLedger).doc(orderId).get()).get('state') as
    string | undefined;
}

describe('credit participant', () => {
  test('reserves once however often the command is delivered, and replies SUCCEEDED', async () => {
    const o = order({ customerId: 'alice', totalCents: 2_500 });
    await issue(env.db, o);
    const cmd = command(o, 'credit', 'forward');
    const results = await Promise.all(
      [1, 2, 3].map(() => redeliverUntilDone(() => runTxParticipant(env.ctx, credit(), cmd))),
    );
    expect(results.filter((r) => !r.value.duplicate)).toHaveLength(1);
    await runTxParticipant(env.ctx, credit(), cmd);
    expect(await env.creditUsed('alice')).toBe(2_500);
    const mine = await repliesFor(o.orderId, 1);
    expect(mine[0]).toMatchObject({
      outcome: 'SUCCEEDED',
      step: 'credit',
      action: 'forward',
      id: `${cmd.id}:reply`,
    });

    const release = command(o, 'credit', 'compensate');
    await runTxParticipant(env.ctx, credit(), release);
    await runTxParticipant(env.ctx, credit(), release);
    // A release with a new message id (a re-issued compensation) must not release twice either.
    await runTxParticipant(env.ctx, credit(), command(o, 'credit', 'compensate', 2));
    expect(await env.creditUsed('alice')).toBe(0);
  });

  test.each([
    ['nobody', 100, 'UNKNOWN_CUSTOMER'],
    ['bob', 1_001, 'CREDIT_LIMIT_EXCEEDED'],
  ])(
    'customer %s ordering %i cents fails with %s and changes nothing',
    async (customerId, totalCents, reason) => {
      const o = order({ customerId, totalCents });
      await issue(env.db, o);
      const r = await runTxParticipant(env.ctx, credit(), command(o, 'credit', 'forward'));
      expect(r.outcome).toEqual({ outcome: 'FAILED', reason });
      if (customerId === 'bob') expect(await env.creditUsed('bob')).toBe(0);
      expect((await repliesFor(o.orderId, 1))[0]).toMatchObject({ outcome: 'FAILED', reason });
    },
  );

  test('a release that overtakes its reserve leaves a tombstone; the late reserve is REFUSED', async () => {
    const o = order({ customerId: 'alice', totalCents: 700 });
    await issue(env.db, o);
    await runTxParticipant(env.ctx, credit(), command(o, 'credit', 'compensate'));
    const late = await runTxParticipant(env.ctx, credit(), command(o, 'credit', 'forward'));
    expect(late.outcome).toEqual({ outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' });
    expect(await env.creditUsed('alice')).toBe(0);
  });

  test('a Firestore-reserved-looking id (__x__) is an ordinary customer', async () => {
    const o = order({ customerId: '__x__', totalCents: 400 });
    await issue(env.db, o);
    const r = await runTxParticipant(env.ctx, credit(), command(o, 'credit', 'forward'));
    expect(r.outcome).toEqual({ outcome: 'SUCCEEDED' });
    expect(await env.creditUsed('__x__')).toBe(400);
  });

  test('concurrent reserves on one customer never exceed the limit', async () => {
    const orders = Array.from({ length: 16 }, () => order({ customerId: 'crowd', totalCents: 150 }));
    await issue(env.db, ...orders);
    const results = await Promise.all(
      orders.map((o) =>
        redeliverUntilDone(() => runTxParticipant(env.ctx, credit(), command(o, 'credit', 'forward'))),
      ),
    );
    const approved = results.filter((r) => r.value.outcome?.outcome === 'SUCCEEDED').length;
    expect(approved).toBe(6); // floor(1000 / 150)
    expect(await env.creditUsed('crowd')).toBe(approved * 150);
  });
});

describe('inventory participant', () => {
  test('reserves all items or none', async () => {
    const ok = order({
      customerId: 'alice',
      items: [
        { sku: 'apple', quantity: 3, unitPriceCents: 10 },
        { sku: 'pear', quantity: 1, unitPriceCents: 10 },
      ],
    });
    await issue(env.db, ok);
    expect(
      (await runTxParticipant(env.ctx, inventory(), command(ok, 'inventory', 'forward'))).outcome,
    ).toEqual({ outcome: 'SUCCEEDED' });
    expect([await env.stock('apple'), await env.stock('pear')]).toEqual([7, 0]);

    const short = order({
      customerId: 'alice',
      items: [
        { sku: 'apple', quantity: 2, unitPriceCents: 10 },
        { sku: 'pear', quantity: 1, unitPriceCents: 10 },
      ],
    });
    await issue(env.db, short);
    const r = await runTxParticipant(env.ctx, inventory(), command(short, 'inventory', 'forward'));
    expect(r.outcome).toEqual({ outcome: 'FAILED', reason: 'OUT_OF_STOCK' });
    expect([await env.stock('apple'), await env.stock('pear')]).toEqual([7, 0]);

    const unknown = order({ customerId: 'alice', items: [{ sku: 'nope', quantity: 1, unitPriceCents: 1 }] });
    await issue(env.db, unknown);
    expect(
      (await runTxParticipant(env.ctx, inventory(), command(unknown, 'inventory', 'forward'))).outcome,
    ).toEqual({
      outcome: 'FAILED',
      reason: 'UNKNOWN_SKU',
    });

    // Put back, twice (duplicate) and with a re-issued compensation: stock restored exactly once.
    await runTxParticipant(env.ctx, inventory(), command(ok, 'inventory', 'compensate'));
    await runTxParticipant(env.ctx, inventory(), command(ok, 'inventory', 'compensate'));
    await runTxParticipant(env.ctx, inventory(), command(ok, 'inventory', 'compensate', 2));
    expect([await env.stock('apple'), await env.stock('pear')]).toEqual([10, 1]);
  });

  test('concurrent reserves of one sku never oversell', async () => {
    const orders = Array.from({ length: 12 }, () =>
      order({ customerId: 'alice', items: [{ sku: 'hot', quantity: 1, unitPriceCents: 1 }] }),
    );
    await issue(env.db, ...orders);
    const results = await Promise.all(
      orders.map((o) =>
        redeliverUntilDone(() => runTxParticipant(env.ctx, inventory(), command(o, 'inventory', 'forward'))),
      ),
    );
    const sold = results.filter((r) => r.value.outcome?.outcome === 'SUCCEEDED').length;
    expect(sold).toBe(5);
    expect(await env.stock('hot')).toBe(0);
  });
});

describe('payment participant', () => {
  test('tok_visa charges once; refund returns the money', async () => {
    const o = order({ customerId: 'alice', paymentToken: 'tok_visa', totalCents: 999 });
    await issue(env.db, o);
    await payments().handle(command(o, 'payment', 'forward'));
    await payments().handle(command(o, 'payment', 'forward'));
    expect(await payment(o.orderId)).toMatchObject({ status: 'CHARGED', amountCents: 999 });
    expect(await ledgerState(o.orderId)).toBe('CHARGED');
    await payments().handle(command(o, 'payment', 'compensate'));
    expect((await payment(o.orderId))?.status).toBe('REFUNDED');
    expect(await ledgerState(o.orderId)).toBe('REFUNDED');
    const mine = await repliesFor(o.orderId, 2);
    expect(mine.map((r) => `${r.action}:${r.outcome}`).sort()).toEqual([
      'compensate:SUCCEEDED',
      'forward:SUCCEEDED',
    ]);
  });

  test('tok_chargeDeclined is a business failure', async () => {
    const o = order({ customerId: 'alice', paymentToken: 'tok_chargeDeclined' });
    await issue(env.db, o);
    await payments().handle(command(o, 'payment', 'forward'));
    expect((await payment(o.orderId))?.status).toBe('DECLINED');
    expect((await repliesFor(o.orderId, 1))[0]).toMatchObject({
      outcome: 'FAILED',
      reason: 'PAYMENT_DECLINED',
    });
  });

  test('tok_flaky fails transiently twice, then charges on the 3rd delivery', async () => {
    const o = order({ customerId: 'alice', paymentToken: 'tok_flaky' });
    await issue(env.db, o);
    const cmd = command(o, 'payment', 'forward');
    await expect(payments().handle(cmd)).rejects.toBeInstanceOf(TransientError);
    await expect(payments().handle(cmd)).rejects.toBeInstanceOf(TransientError);
    await payments().handle(cmd);
    expect((await payment(o.orderId))?.status).toBe('CHARGED');
  });

  test('tok_unavailable: the refund voids the order, the late charge is refused, no money moves', async () => {
    const o = order({ customerId: 'alice', paymentToken: 'tok_unavailable' });
    await issue(env.db, o);
    const charge = command(o, 'payment', 'forward');
    await expect(payments().handle(charge)).rejects.toBeInstanceOf(TransientError);
    await payments().handle(command(o, 'payment', 'compensate'));
    expect((await payment(o.orderId))?.status).toBe('CANCELLED');
    await payments().handle(charge);
    expect((await payment(o.orderId))?.status).toBe('CANCELLED');
    expect(await ledgerState(o.orderId)).toBe('VOIDED');
    const mine = await repliesFor(o.orderId, 2);
    expect(mine.find((r) => r.action === 'forward')).toMatchObject({ outcome: 'REFUSED' });
  });

  test('a refund before any charge leaves a CANCELLED tombstone; the charge never reaches the gateway', async () => {
    const o = order({ customerId: 'alice', paymentToken: 'tok_visa' });
    await issue(env.db, o);
    await payments().handle(command(o, 'payment', 'compensate'));
    await payments().handle(command(o, 'payment', 'forward'));
    expect((await payment(o.orderId))?.status).toBe('CANCELLED');
    expect(await ledgerState(o.orderId)).toBeUndefined();
  });
});
