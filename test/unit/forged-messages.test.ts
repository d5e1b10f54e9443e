/**
 * Messages are not trusted blindly: a message id must match its content, an inventory payload may not name a sku
 * twice, and a participant acts only on a command its saga issued (checked against the saga's recorded state).
 */
import { PermanentError } from '../../shared/runtime/errors';
import { commandId, identityMismatch, replyTo, type CommandMessage } from '../../shared/runtime/messages';
import { parseCommand, parseReply, type PushMessage } from '../../shared/runtime/push';
import { commandMessage } from '../../shared/runtime/saga/binding';
import { decide, start } from '../../shared/runtime/engine/engine';
import { notIssuedBecause } from '../../shared/runtime/saga/issued';
import { inventoryPayloadSchema } from '../../shared/participants/inventory';
import { registry } from '../../shared/registry';
import { startTopics } from '../../shared/runtime/topology';
import { orderPlacement, type OrderData } from '../../shared/sagas/order-placement/definition';
import { tripBookingV1 as tripBooking } from '../../shared/sagas/trip-booking/definition';
import type { EngineOptions, SagaEvent } from '../../shared/runtime/engine/types';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { FUNCTION_SPECS } from '../../shared/topology';

const OPTS: EngineOptions = { stepTimeoutMs: 1000, scheduleToStartMs: 10_000, compensationMaxAttempts: 3 };
const data: OrderData = {
  orderId: 'o-1',
  customerId: 'c-1',
  items: [{ sku: 'sku-1', quantity: 2, unitPriceCents: 500 }],
  totalCents: 1000,
  paymentToken: 'tok_visa',
};

function push(message: unknown): PushMessage {
  const text = JSON.stringify(message);
  return {
    text,
    bytes: Buffer.from(text),
    attributes: {},
    pubsubMessageId: '1',
    subscription: null,
    deliveryAttempt: null,
    publishTime: null,
    orderingKey: null,
  };
}

const cmd = (
  step: string,
  action: 'forward' | 'compensate',
  attempt = 1,
  d: OrderData = data,
): CommandMessage =>
  commandMessage(orderPlacement, d.orderId, d, { step, action, attempt }).data as CommandMessage;

/** The saga document after `events` (from the pure engine: exactly what the orchestrator would have stored). */
function sagaAfter(events: SagaEvent[]): SagaDoc {
  let state = start(orderPlacement.definition, data.orderId, 0, OPTS).state;
  let now = 0;
  for (const e of events) state = decide(state, e, (now += 10), OPTS).state;
  return { ...state, data: { ...data }, createdAt: 0, updatedAt: now };
}
const ok = (step: string): SagaEvent => ({
  kind: 'reply',
  step,
  action: 'forward',
  attempt: 1,
  outcome: 'SUCCEEDED',
});

describe('a message id must match its content', () => {
  it('accepts the ids the engine produces', () => {
    const c = cmd('credit', 'forward');
    expect(identityMismatch(c)).toBeNull();
    expect(identityMismatch(replyTo(c, 'SUCCEEDED'))).toBeNull();
    expect(parseCommand(push(c))).toEqual(c);
  });

  it.each([
    [
      'a reply named like the sweeper timeout event',
      (c: CommandMessage) => ({ ...replyTo(c, 'SUCCEEDED'), id: `timeout:${c.sagaId}:credit:forward:1` }),
    ],
    [
      'a reply whose id names another attempt',
      (c: CommandMessage) => ({
        ...replyTo(c, 'FAILED', 'X'),
        id: `${commandId(c.sagaId, 'credit', 'forward', 2)}:reply`,
      }),
    ],
  ])('refuses %s (ID_MISMATCH)', (_what, forge) => {
    const forged = forge(cmd('credit', 'forward'));
    let thrown: unknown;
    try {
      parseReply(push(forged));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ reason: 'ID_MISMATCH' });
  });

  it('refuses a command whose id names another step, saga or action', () => {
    for (const id of ['o-2:credit:forward:1', 'o-1:payment:forward:1', 'o-1:credit:compensate:1']) {
      const e = (() => {
        try {
          parseCommand(push({ ...cmd('credit', 'forward'), id }));
          return null;
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(PermanentError);
      expect((e as PermanentError).reason).toBe('ID_MISMATCH');
    }
  });
});

test('an inventory payload naming a sku twice is refused (it would decrement once and release twice)', () => {
  const twice = {
    orderId: 'o-1',
    items: [
      { sku: 'a', quantity: 1 },
      { sku: 'a', quantity: 1 },
    ],
  };
  expect(inventoryPayloadSchema.safeParse(twice).success).toBe(false);
  expect(inventoryPayloadSchema.safeParse({ ...twice, items: [twice.items[0]] }).success).toBe(true);
});

describe('a participant acts only on a command its saga issued', () => {
  it('accepts every command the engine issued, in every state it issued it', () => {
    expect(notIssuedBecause(registry, sagaAfter([]), cmd('credit', 'forward'))).toBeNull();
    const failedInventory = sagaAfter([
      ok('credit'),
      {
        kind: 'reply',
        step: 'inventory',
        action: 'forward',
        attempt: 1,
        outcome: 'FAILED',
        reason: 'OUT_OF_STOCK',
      },
    ]);
    expect(notIssuedBecause(registry, failedInventory, cmd('credit', 'compensate'))).toBeNull();
    // A redelivered or redriven forward command of a step that has moved on is still genuine.
    expect(notIssuedBecause(registry, failedInventory, cmd('credit', 'forward'))).toBeNull();
    expect(notIssuedBecause(registry, failedInventory, cmd('inventory', 'forward'))).toBeNull();
  });

  it.each([
    [
      'a compensation of an APPROVED order',
      sagaAfter([ok('credit'), ok('inventory'), ok('payment')]),
      cmd('payment', 'compensate'),
      /never issued a compensation/,
    ],
    [
      'a compensation attempt beyond those issued',
      sagaAfter([
        ok('credit'),
        {
          kind: 'reply',
          step: 'inventory',
          action: 'forward',
          attempt: 1,
          outcome: 'FAILED',
          reason: 'OUT_OF_STOCK',
        },
      ]),
      cmd('credit', 'compensate', 2),
      /attempt 2 .* never issued/,
    ],
    ['a forward command of a step never started', sagaAfter([]), cmd('payment', 'forward'), /never started/],
    ['a command for a saga that does not exist', null, cmd('credit', 'forward'), /no saga/],
    [
      'a genuine command id with a forged payload',
      sagaAfter([ok('credit'), ok('inventory'), ok('payment')]),
      { ...cmd('payment', 'forward'), payload: { orderId: 'o-1', amountCents: 1, paymentToken: 'tok_visa' } },
      /payload differs/,
    ],
    [
      'a command of another saga type',
      sagaAfter([]),
      { ...cmd('credit', 'forward'), sagaType: 'trip-booking' },
      /not a trip-booking/,
    ],
  ])('refuses %s', (_what, saga, command, why) => {
    expect(notIssuedBecause(registry, saga, command)).toMatch(why);
  });
});

describe('publish rights follow what each function really publishes', () => {
  it('the api may publish only the first step topic of each saga type (it starts sagas, nothing else)', () => {
    const firstTopics = registry.sagas().flatMap(startTopics);
    const api = FUNCTION_SPECS.find((f) => f.key === 'api')!;
    expect([...api.publishes].sort()).toEqual([...new Set(firstTopics)].sort());
  });

  it('a saga whose first stage runs steps in parallel starts each: the api may publish to all their topics', () => {
    const stage = (stages: string[][]) => ({
      ...tripBooking,
      definition: { type: 'grouped', steps: stages.flat(), stages },
    });
    expect(startTopics(stage([['flight'], ['hotel', 'car'], ['payment']]))).toEqual(['flight-commands']);
    expect(startTopics(stage([['flight', 'hotel'], ['car'], ['payment']]))).toEqual([
      'flight-commands',
      'hotel-commands',
    ]);
    // car may be skipped: the stage after it may be first too.
    expect(startTopics(stage([['car'], ['flight', 'hotel'], ['payment']]))).toEqual([
      'car-commands',
      'flight-commands',
      'hotel-commands',
    ]);
  });

  it('the orchestrator, the sweeper and dead-letters may publish every step topic of every saga type', () => {
    const stepTopics = new Set(
      registry.sagas().flatMap((b) => Object.values(b.steps).map((s) => s.participant.commandTopic)),
    );
    for (const key of ['orchestrator', 'sweeper', 'deadLetters'] as const) {
      const spec = FUNCTION_SPECS.find((f) => f.key === key)!;
      for (const t of stepTopics)
        expect(`${key} -> ${spec.publishes.includes(t) ? t : 'MISSING ' + t}`).toBe(`${key} -> ${t}`);
    }
  });
});
