/**
 * The external effect participant kind without Firestore: its pure transitions on every path (table-driven), the
 * payment record layout (documents as stored before the kind existed), and the protocol run over an in-memory
 * persistence with an in-memory gateway (duplicates, transient failures, a refund overtaking or racing a charge).
 */
import {
  DEFAULT_LAYOUT,
  applyWrite,
  recordCodec,
  runExternalEffect,
  transition,
  type EffectPersistence,
  type EffectRecord,
  type RecordWrite,
  type Transition,
  type TransitionInput,
} from '../../shared/runtime/participants/external-effect';
import type { StepOutcome } from '../../shared/runtime/participants/transactional';
import type { CommandMessage } from '../../shared/runtime/messages';
import { TransientError } from '../../shared/runtime/errors';
import { PAYMENT_LAYOUT, paymentParticipant } from '../../functions/payment/service';
import type { ChargeResult, PaymentGateway } from '../../functions/payment/gateway';
import type { PaymentPayload } from '../../shared/participants/payment';
import { command, order } from '../support/commands';

const none = null;
const rec = (state: EffectRecord['state'], extra: Partial<EffectRecord> = {}): EffectRecord => ({
  state,
  ...extra,
});
const SUCCEEDED: StepOutcome = { outcome: 'SUCCEEDED' };
const REFUSED: StepOutcome = { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };
const reply = (outcome: StepOutcome, write?: RecordWrite): Transition =>
  write ? { write, next: 'reply', outcome } : { next: 'reply', outcome };

describe('transition (pure)', () => {
  const cases: [string, TransitionInput, Transition][] = [
    // forward, before the external call
    [
      'charge, fresh: writes the intent and claims',
      { action: 'forward', stage: 'intent', record: none },
      { write: { op: 'create', state: 'INTENT' }, next: 'call', claim: true },
    ],
    [
      'charge, intent present: continues without claiming again',
      { action: 'forward', stage: 'intent', record: rec('INTENT') },
      { next: 'call', claim: false },
    ],
    [
      'charge, DONE: answered from the record',
      { action: 'forward', stage: 'intent', record: rec('DONE') },
      reply(SUCCEEDED),
    ],
    [
      'charge, REJECTED: answered with the stored reason',
      { action: 'forward', stage: 'intent', record: rec('REJECTED', { reason: 'PAYMENT_DECLINED' }) },
      reply({ outcome: 'FAILED', reason: 'PAYMENT_DECLINED' }),
    ],
    [
      'charge, REVERSING: refused',
      { action: 'forward', stage: 'intent', record: rec('REVERSING', { before: 'DONE' }) },
      reply(REFUSED),
    ],
    [
      'charge, REVERSED: refused',
      { action: 'forward', stage: 'intent', record: rec('REVERSED') },
      reply(REFUSED),
    ],
    [
      'charge, CANCELLED tombstone: refused',
      { action: 'forward', stage: 'intent', record: rec('CANCELLED') },
      reply(REFUSED),
    ],
    // forward, after the external call
    [
      'charge performed: DONE',
      { action: 'forward', stage: 'result', record: rec('INTENT'), result: { status: 'DONE' } },
      reply(SUCCEEDED, { op: 'update', state: 'DONE' }),
    ],
    [
      'charge rejected: REJECTED with the reason',
      {
        action: 'forward',
        stage: 'result',
        record: rec('INTENT'),
        result: { status: 'REJECTED', reason: 'PAYMENT_DECLINED' },
      },
      reply(
        { outcome: 'FAILED', reason: 'PAYMENT_DECLINED' },
        { op: 'update', state: 'REJECTED', reason: 'PAYMENT_DECLINED' },
      ),
    ],
    [
      'charge performed, but a reversal got there first (REVERSING): refused, no write',
      {
        action: 'forward',
        stage: 'result',
        record: rec('REVERSING', { before: 'INTENT' }),
        result: { status: 'DONE' },
      },
      reply(REFUSED),
    ],
    [
      'charge rejected, but a reversal got there first (CANCELLED): refused, no write',
      {
        action: 'forward',
        stage: 'result',
        record: rec('CANCELLED'),
        result: { status: 'REJECTED', reason: 'PAYMENT_DECLINED' },
      },
      reply(REFUSED),
    ],
    [
      'charge voided by the API: refused, no write',
      { action: 'forward', stage: 'result', record: rec('INTENT'), result: { status: 'VOIDED' } },
      reply(REFUSED),
    ],
    // compensate, before the external call
    [
      'refund, nothing yet: CANCELLED tombstone, SUCCEEDED',
      { action: 'compensate', stage: 'intent', record: none },
      reply(SUCCEEDED, { op: 'create', state: 'CANCELLED' }),
    ],
    [
      'refund of an intent: REVERSING from INTENT, claims',
      { action: 'compensate', stage: 'intent', record: rec('INTENT') },
      { write: { op: 'update', state: 'REVERSING', before: 'INTENT' }, next: 'call', claim: true },
    ],
    [
      'refund of a DONE effect: REVERSING from DONE, claims',
      { action: 'compensate', stage: 'intent', record: rec('DONE') },
      { write: { op: 'update', state: 'REVERSING', before: 'DONE' }, next: 'call', claim: true },
    ],
    [
      'refund, REVERSING already: continues without claiming again',
      { action: 'compensate', stage: 'intent', record: rec('REVERSING', { before: 'DONE' }) },
      { next: 'call', claim: false },
    ],
    [
      'refund, REVERSED already: SUCCEEDED',
      { action: 'compensate', stage: 'intent', record: rec('REVERSED') },
      reply(SUCCEEDED),
    ],
    [
      'refund, CANCELLED already: SUCCEEDED',
      { action: 'compensate', stage: 'intent', record: rec('CANCELLED') },
      reply(SUCCEEDED),
    ],
    [
      'refund of a REJECTED effect: nothing to undo, SUCCEEDED',
      { action: 'compensate', stage: 'intent', record: rec('REJECTED', { reason: 'X' }) },
      reply(SUCCEEDED),
    ],
    // compensate, after the external call
    [
      'refund reversed something: REVERSED, before cleared',
      {
        action: 'compensate',
        stage: 'result',
        record: rec('REVERSING', { before: 'DONE' }),
        result: { reversed: true },
      },
      reply(SUCCEEDED, { op: 'update', state: 'REVERSED', before: null }),
    ],
    [
      'refund found nothing (voided): CANCELLED, before cleared',
      {
        action: 'compensate',
        stage: 'result',
        record: rec('REVERSING', { before: 'INTENT' }),
        result: { reversed: false },
      },
      reply(SUCCEEDED, { op: 'update', state: 'CANCELLED', before: null }),
    ],
    [
      'refund result after another delivery finished it: SUCCEEDED, no write',
      { action: 'compensate', stage: 'result', record: rec('REVERSED'), result: { reversed: true } },
      reply(SUCCEEDED),
    ],
  ];

  test.each(cases)('%s', (_name, input, expected) => {
    const frozen = Object.freeze({ ...input, record: input.record && Object.freeze({ ...input.record }) });
    expect(transition(frozen)).toEqual(expected);
    expect(transition(frozen)).toEqual(expected); // same input, same answer
  });
});

describe('applyWrite', () => {
  test.each<[string, EffectRecord | null, RecordWrite, EffectRecord]>([
    ['create an intent', null, { op: 'create', state: 'INTENT' }, rec('INTENT')],
    ['create a tombstone', null, { op: 'create', state: 'CANCELLED' }, rec('CANCELLED')],
    [
      'reject with a reason',
      rec('INTENT'),
      { op: 'update', state: 'REJECTED', reason: 'R' },
      rec('REJECTED', { reason: 'R' }),
    ],
    [
      'start reversing',
      rec('DONE'),
      { op: 'update', state: 'REVERSING', before: 'DONE' },
      rec('REVERSING', { before: 'DONE' }),
    ],
    [
      'finish reversing',
      rec('REVERSING', { before: 'DONE' }),
      { op: 'update', state: 'REVERSED', before: null },
      rec('REVERSED'),
    ],
  ])('%s', (_name, record, write, expected) => {
    expect(applyWrite(record, write)).toEqual(expected);
  });
});

describe('record layout', () => {
  const payment = recordCodec(PAYMENT_LAYOUT);
  const fields = { orderId: 'o-1', amountCents: 999 };

  test('payment records are written exactly as before the kind existed', () => {
    expect(payment.encode({ op: 'create', state: 'INTENT' }, fields)).toEqual({
      ...fields,
      status: 'CHARGING',
    });
    expect(payment.encode({ op: 'create', state: 'CANCELLED' }, fields)).toEqual({
      ...fields,
      status: 'CANCELLED',
    });
    expect(payment.encode({ op: 'update', state: 'DONE' })).toEqual({ status: 'CHARGED' });
    expect(payment.encode({ op: 'update', state: 'REJECTED', reason: 'PAYMENT_DECLINED' })).toEqual({
      status: 'DECLINED',
    });
    expect(payment.encode({ op: 'update', state: 'REVERSING', before: 'INTENT' })).toEqual({
      status: 'REFUNDING',
      before: 'CHARGING',
    });
    expect(payment.encode({ op: 'update', state: 'REVERSING', before: 'DONE' })).toEqual({
      status: 'REFUNDING',
      before: 'CHARGED',
    });
    expect(payment.encode({ op: 'update', state: 'REVERSED', before: null })).toEqual({
      status: 'REFUNDED',
      before: null,
    });
    expect(payment.encode({ op: 'update', state: 'CANCELLED', before: null })).toEqual({
      status: 'CANCELLED',
      before: null,
    });
  });

  test.each<[Record<string, unknown> | undefined, EffectRecord | null]>([
    [undefined, null],
    [{ ...fields, status: 'CHARGING' }, rec('INTENT')],
    [{ ...fields, status: 'CHARGED' }, rec('DONE')],
    [{ ...fields, status: 'DECLINED' }, rec('REJECTED', { reason: 'PAYMENT_DECLINED' })],
    [{ ...fields, status: 'REFUNDING', before: 'CHARGED' }, rec('REVERSING', { before: 'DONE' })],
    [{ ...fields, status: 'REFUNDING', before: 'CHARGING' }, rec('REVERSING', { before: 'INTENT' })],
    [{ ...fields, status: 'REFUNDED', before: null }, rec('REVERSED')],
    [{ ...fields, status: 'CANCELLED' }, rec('CANCELLED')],
  ])('payment document %j reads as %j', (data, expected) => {
    expect(payment.decode(data)).toEqual(expected);
  });

  test('the default layout stores the reason; unknown states and duplicate names are errors', () => {
    const generic = recordCodec(DEFAULT_LAYOUT);
    const write: RecordWrite = { op: 'update', state: 'REJECTED', reason: 'NO_SEATS' };
    expect(generic.encode(write)).toEqual({ state: 'REJECTED', reason: 'NO_SEATS' });
    expect(generic.decode(generic.encode(write))).toEqual(rec('REJECTED', { reason: 'NO_SEATS' }));
    expect(() => payment.decode({ status: 'LOST' })).toThrow(/unknown state/);
    expect(() => payment.decode({ status: 'REFUNDING', before: 'REFUNDED' })).toThrow(/cannot start from/);
    expect(() =>
      recordCodec({ ...DEFAULT_LAYOUT, states: { ...DEFAULT_LAYOUT.states, DONE: 'INTENT' } }),
    ).toThrow(/used twice/);
  });
});

/** processOnce in memory: the record per key, an inbox per message id, the claims, the replies. */
class MemoryPersistence implements EffectPersistence<PaymentPayload> {
  readonly records = new Map<string, EffectRecord>();
  readonly inbox = new Map<string, StepOutcome>();
  readonly claims: string[] = [];
  stage(
    cmd: CommandMessage,
    key: string,
    _payload: PaymentPayload,
    decide: (record: EffectRecord | null) => Transition,
  ): Promise<{ done: true; duplicate: boolean } | { done: false }> {
    if (this.inbox.has(cmd.id)) return Promise.resolve({ done: true, duplicate: true });
    const current = this.records.get(key) ?? null;
    const t = decide(current);
    if (t.write) {
      if (t.write.op === 'create' && current) {
        return Promise.reject(new Error('create of an existing record'));
      }
      if (t.write.op === 'update' && !current) {
        return Promise.reject(new Error('update of a missing record'));
      }
      this.records.set(key, applyWrite(current, t.write));
    }
    if (t.next === 'call') {
      if (t.claim) this.claims.push(cmd.id);
      return Promise.resolve({ done: false });
    }
    this.inbox.set(cmd.id, t.outcome);
    return Promise.resolve({ done: true, duplicate: false });
  }
}

/** The simulated gateway's rules, in memory; `beforeCharge` runs when a charge reaches it. */
class MemoryGateway implements PaymentGateway {
  readonly ledger = new Map<string, 'ATTEMPTING' | 'CHARGED' | 'DECLINED' | 'VOIDED' | 'REFUNDED'>();
  readonly calls: string[] = [];
  failuresLeft = 0;
  beforeCharge: (() => Promise<void>) | null = null;

  async charge(req: { orderId: string; token: string }): Promise<ChargeResult> {
    this.calls.push(`charge:${req.orderId}`);
    const hook = this.beforeCharge;
    this.beforeCharge = null;
    if (hook) await hook();
    const state = this.ledger.get(req.orderId);
    if (state === 'VOIDED') return { status: 'VOIDED' };
    if (state === 'CHARGED' || state === 'REFUNDED') return { status: 'CHARGED' };
    if (state === 'DECLINED') return { status: 'DECLINED', reason: 'PAYMENT_DECLINED' };
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      this.ledger.set(req.orderId, 'ATTEMPTING');
      throw new TransientError('gateway unavailable');
    }
    const next = req.token === 'tok_chargeDeclined' ? 'DECLINED' : 'CHARGED';
    this.ledger.set(req.orderId, next);
    return next === 'CHARGED' ? { status: 'CHARGED' } : { status: 'DECLINED', reason: 'PAYMENT_DECLINED' };
  }

  refund(orderId: string): Promise<{ refunded: boolean }> {
    this.calls.push(`refund:${orderId}`);
    const state = this.ledger.get(orderId);
    if (state === 'CHARGED' || state === 'REFUNDED') {
      this.ledger.set(orderId, 'REFUNDED');
      return Promise.resolve({ refunded: true });
    }
    if (state !== 'DECLINED') this.ledger.set(orderId, 'VOIDED');
    return Promise.resolve({ refunded: false });
  }
}

describe('the protocol over an in-memory persistence (payment configuration)', () => {
  function setup(token = 'tok_visa') {
    const o = order({ customerId: 'c-1', paymentToken: token, totalCents: 999 });
    const gateway = new MemoryGateway();
    const store = new MemoryPersistence();
    const participant = paymentParticipant(gateway);
    const run = (cmd: CommandMessage) => runExternalEffect(participant, store, cmd);
    return {
      o,
      gateway,
      store,
      run,
      forward: command(o, 'payment', 'forward'),
      compensate: command(o, 'payment', 'compensate'),
    };
  }

  test('a charge runs two stages, claims once, and a duplicate changes nothing', async () => {
    const { o, gateway, store, run, forward } = setup();
    await expect(run(forward)).resolves.toEqual({ duplicate: false });
    await expect(run(forward)).resolves.toEqual({ duplicate: true });
    expect(store.records.get(o.orderId)).toEqual(rec('DONE'));
    expect(store.inbox.get(forward.id)).toEqual(SUCCEEDED);
    expect(store.claims).toEqual([forward.id]);
    expect(gateway.calls).toEqual([`charge:${o.orderId}`]);
  });

  test('a decline is a business failure', async () => {
    const { o, store, run, forward } = setup('tok_chargeDeclined');
    await run(forward);
    expect(store.records.get(o.orderId)).toEqual(rec('REJECTED', { reason: 'PAYMENT_DECLINED' }));
    expect(store.inbox.get(forward.id)).toEqual({ outcome: 'FAILED', reason: 'PAYMENT_DECLINED' });
  });

  test('a transient gateway failure leaves the intent; the redelivery continues without a second claim', async () => {
    const { o, gateway, store, run, forward } = setup();
    gateway.failuresLeft = 2;
    await expect(run(forward)).rejects.toBeInstanceOf(TransientError);
    await expect(run(forward)).rejects.toBeInstanceOf(TransientError);
    expect(store.records.get(o.orderId)).toEqual(rec('INTENT'));
    await run(forward);
    expect(store.records.get(o.orderId)).toEqual(rec('DONE'));
    expect(store.claims).toEqual([forward.id]);
  });

  test('charge then refund: REVERSED; the refund claims its own command', async () => {
    const { o, gateway, store, run, forward, compensate } = setup();
    await run(forward);
    await run(compensate);
    expect(store.records.get(o.orderId)).toEqual(rec('REVERSED'));
    expect(store.inbox.get(compensate.id)).toEqual(SUCCEEDED);
    expect(store.claims).toEqual([forward.id, compensate.id]);
    expect(gateway.ledger.get(o.orderId)).toBe('REFUNDED');
  });

  test('a refund before any charge leaves a tombstone; the late charge is refused without calling out', async () => {
    const { o, gateway, store, run, forward, compensate } = setup();
    await run(compensate);
    await run(forward);
    expect(store.records.get(o.orderId)).toEqual(rec('CANCELLED'));
    expect(store.inbox.get(forward.id)).toEqual(REFUSED);
    expect(gateway.calls).toEqual([]);
  });

  test('a refund that arrives while the charge is at the gateway voids it: the charge is refused', async () => {
    const { o, gateway, store, run, forward, compensate } = setup();
    gateway.beforeCharge = async () => {
      await run(compensate);
    };
    await run(forward);
    expect(store.records.get(o.orderId)).toEqual(rec('CANCELLED'));
    expect(store.inbox.get(compensate.id)).toEqual(SUCCEEDED);
    expect(store.inbox.get(forward.id)).toEqual(REFUSED);
    expect(gateway.ledger.get(o.orderId)).toBe('VOIDED');
  });
});
