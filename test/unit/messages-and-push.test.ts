/**
 * Push envelope parsing, message schemas, command messages from the order-placement binding, replies, and the
 * dead-letter source topic. Pure: no Pub/Sub.
 */
import { sourceTopicOf } from '../../shared/runtime/dead-letters';
import { PermanentError } from '../../shared/runtime/errors';
import {
  commandId,
  commandSchema,
  replySchema,
  replyTo,
  tickSchema,
  type CommandMessage,
} from '../../shared/runtime/messages';
import { replyMessage } from '../../shared/runtime/participants/transactional';
import { parseMessage, parsePushEnvelope, type PushMessage } from '../../shared/runtime/push';
import { commandMessage } from '../../shared/runtime/saga/binding';
import { creditPayloadSchema } from '../../shared/participants/credit';
import { inventoryPayloadSchema } from '../../shared/participants/inventory';
import { paymentPayloadSchema } from '../../shared/participants/payment';
import { orderPlacement, type OrderData } from '../../shared/sagas/order-placement/definition';
import { dlqTopicOf, SUBSCRIPTIONS, TOPICS, topology } from '../../shared/topology';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const ORDER: OrderData = {
  orderId: 'order-42',
  customerId: 'c-1',
  items: [
    { sku: 'sku-b', quantity: 2, unitPriceCents: 1250 },
    { sku: 'sku-a', quantity: 1, unitPriceCents: 99 },
    { sku: 'sku-c', quantity: 3, unitPriceCents: 0 },
  ],
  totalCents: 2599,
  paymentToken: 'tok_visa',
};

function push(text: string, attributes: Record<string, string> = {}): PushMessage {
  return parsePushEnvelope({ message: { data: b64(text), attributes, messageId: '1' } });
}

/** Runs `fn`, expecting a PermanentError; returns it. */
function permanent(fn: () => unknown): PermanentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).retryable).toBe(false);
    return err as PermanentError;
  }
  throw new Error('expected a PermanentError');
}

function validCommand(): CommandMessage {
  return commandSchema.parse(
    commandMessage(orderPlacement, ORDER.orderId, ORDER, { step: 'credit', action: 'forward', attempt: 1 })
      .data,
  );
}

describe('parsePushEnvelope', () => {
  const data = JSON.stringify({ hello: 'wörld' });

  it('parses the emulator shape (no deliveryAttempt, no orderingKey, snake_case message_id)', () => {
    const m = parsePushEnvelope({
      message: {
        data: b64(data),
        attributes: { type: 'saga.command' },
        message_id: '17',
        publish_time: '2024-01-01T00:00:00.000Z',
      },
      subscription: 'projects/demo-saga/subscriptions/credit-commands--credit',
    });
    expect(m).toEqual({
      text: data,
      bytes: Buffer.from(data),
      attributes: { type: 'saga.command' },
      pubsubMessageId: '17',
      subscription: 'projects/demo-saga/subscriptions/credit-commands--credit',
      deliveryAttempt: null,
      publishTime: null,
      orderingKey: null,
    });
  });

  it('parses the production shape (deliveryAttempt, orderingKey, publishTime, both id spellings)', () => {
    const m = parsePushEnvelope({
      message: {
        data: b64(data),
        attributes: { a: 'b' },
        messageId: '123',
        message_id: '123',
        publishTime: '2024-02-03T04:05:06.789Z',
        publish_time: '2024-02-03T04:05:06.789Z',
        orderingKey: 'customer:c-1',
      },
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: 4,
    });
    expect(m).toEqual({
      text: data,
      bytes: Buffer.from(data),
      attributes: { a: 'b' },
      pubsubMessageId: '123',
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: 4,
      publishTime: '2024-02-03T04:05:06.789Z',
      orderingKey: 'customer:c-1',
    });
  });

  it('accepts a message without data or attributes', () => {
    const m = parsePushEnvelope({ message: {} });
    expect(m.text).toBe('');
    expect(m.attributes).toEqual({});
    expect(m.pubsubMessageId).toBeNull();
    expect(m.subscription).toBeNull();
  });

  it.each([
    ['no message', { subscription: 'projects/p/subscriptions/s' }],
    ['null body', null],
    ['a string body', 'hello'],
    ['an array body', [{ message: {} }]],
    ['message is a string', { message: 'x' }],
    ['data is not a string', { message: { data: 42 } }],
    ['attributes with a non-string value', { message: { attributes: { n: 1 } } }],
    ['deliveryAttempt not an integer', { message: {}, deliveryAttempt: 1.5 }],
  ])('%s → PermanentError BAD_ENVELOPE', (_name, body) => {
    const err = permanent(() => parsePushEnvelope(body));
    expect(err.reason).toBe('BAD_ENVELOPE');
    expect(err.message).toMatch(/push envelope/);
  });
});

describe('parseMessage', () => {
  it('returns the validated message', () => {
    const cmd = validCommand();
    expect(parseMessage(push(JSON.stringify(cmd)), commandSchema)).toEqual(cmd);
  });

  it.each(['not json', '', '{"v":1', "{'single':'quotes'}", 'undefined'])('%j → NOT_JSON', (text) => {
    const err = permanent(() => parseMessage(push(text), commandSchema));
    expect(err.reason).toBe('NOT_JSON');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  const violations: [string, (c: Record<string, unknown>) => unknown, string][] = [
    ['wrong version', (c) => ({ ...c, v: 2 }), 'v'],
    ['unknown action', (c) => ({ ...c, action: 'undo' }), 'action'],
    ['attempt 0', (c) => ({ ...c, attempt: 0 }), 'attempt'],
    ['attempt 1.5', (c) => ({ ...c, attempt: 1.5 }), 'attempt'],
    ['attempt 1001', (c) => ({ ...c, attempt: 1001 }), 'attempt'],
    ['bad saga id', (c) => ({ ...c, sagaId: 'a/b' }), 'sagaId'],
    ['saga id of 65 characters', (c) => ({ ...c, sagaId: 'x'.repeat(65) }), 'sagaId'],
    ['bad message id', (c) => ({ ...c, id: 'a b' }), 'id'],
    ['missing payload', ({ payload: _p, ...rest }) => rest, 'payload'],
    ['payload not an object', (c) => ({ ...c, payload: [1] }), 'payload'],
    ['unknown field', (c) => ({ ...c, extra: true }), '(root)'],
    ['a JSON array', () => [1, 2], '(root)'],
    ['JSON null', () => null, '(root)'],
  ];
  it.each(violations)('%s → SCHEMA_VIOLATION naming the path', (_name, mutate, path) => {
    const text = JSON.stringify(mutate(validCommand()));
    const err = permanent(() => parseMessage(push(text), commandSchema));
    expect(err.reason).toBe('SCHEMA_VIOLATION');
    expect(err.message).toContain(`at ${path}:`);
  });

  it.each([
    ['another message type', { type: 'saga.reply' }, 'unknown message type "saga.reply"'],
    ['a type that is not a string', { type: 42 }, 'unknown message type 42'],
    ['no type', { type: undefined }, 'unknown message type null'],
    ['an unknown type and other violations', { type: 'x', v: 9, attempt: -1 }, 'unknown message type "x"'],
  ])('%s → UNKNOWN_TYPE', (_name, patch, message) => {
    const text = JSON.stringify({ ...validCommand(), ...patch });
    const err = permanent(() => parseMessage(push(text), commandSchema));
    expect(err.reason).toBe('UNKNOWN_TYPE');
    expect(err.message).toBe(message);
  });

  it('validates replies and ticks with their own schemas', () => {
    const reply = replyTo(validCommand(), 'FAILED', 'OUT_OF_STOCK');
    expect(parseMessage(push(JSON.stringify(reply)), replySchema)).toEqual(reply);
    expect(permanent(() => parseMessage(push(JSON.stringify(reply)), commandSchema)).reason).toBe(
      'UNKNOWN_TYPE',
    );
    expect(permanent(() => parseMessage(push(JSON.stringify(validCommand())), tickSchema)).reason).toBe(
      'UNKNOWN_TYPE',
    );
    expect(
      permanent(() => parseMessage(push(JSON.stringify({ ...reply, outcome: 'MAYBE' })), replySchema)).reason,
    ).toBe('SCHEMA_VIOLATION');
    expect(parseMessage(push('{"type":"saga.tick"}'), tickSchema)).toEqual({ type: 'saga.tick' });
  });
});

describe('commandMessage (order-placement binding)', () => {
  const cases = [
    {
      step: 'credit',
      topic: TOPICS.creditCommands,
      orderingKey: 'customer:c-1',
      payload: { orderId: 'order-42', customerId: 'c-1', amountCents: 2599 },
      schema: creditPayloadSchema,
    },
    {
      step: 'inventory',
      topic: TOPICS.inventoryCommands,
      // The smallest sku of the order, whatever the items' order.
      orderingKey: 'sku:sku-a',
      payload: {
        orderId: 'order-42',
        items: [
          { sku: 'sku-b', quantity: 2 },
          { sku: 'sku-a', quantity: 1 },
          { sku: 'sku-c', quantity: 3 },
        ],
      },
      schema: inventoryPayloadSchema,
    },
    {
      step: 'payment',
      topic: TOPICS.paymentCommands,
      orderingKey: undefined,
      payload: { orderId: 'order-42', amountCents: 2599, paymentToken: 'tok_visa' },
      schema: paymentPayloadSchema,
    },
  ] as const;

  describe.each(cases)('$step', ({ step, topic, orderingKey, payload, schema }) => {
    it.each([
      ['forward', 1],
      ['compensate', 1],
      ['compensate', 3],
    ] as const)('%s attempt %i', (action, attempt) => {
      const m = commandMessage(orderPlacement, ORDER.orderId, ORDER, { step, action, attempt });
      const id = `order-42:${step}:${action}:${attempt}`;
      expect(m.id).toBe(id);
      expect(commandId('order-42', step, action, attempt)).toBe(id);
      expect(m.topic).toBe(topic);
      if (orderingKey === undefined) expect(m).not.toHaveProperty('orderingKey');
      else expect(m.orderingKey).toBe(orderingKey);
      // The ordering key travels as an attribute too (push bodies on the emulator lack it; dead letters keep it).
      expect(m.attributes).toEqual({
        type: 'saga.command',
        messageId: id,
        sagaId: 'order-42',
        step,
        action,
        ...(orderingKey === undefined ? {} : { orderingKey }),
      });
      const cmd = commandSchema.parse(m.data);
      expect(cmd).toEqual({
        v: 1,
        type: 'saga.command',
        id,
        sagaId: 'order-42',
        sagaType: 'order-placement',
        step,
        action,
        attempt,
        payload,
      });
      expect(schema.parse(cmd.payload)).toEqual(payload);
      // Round trip through a push envelope.
      expect(parseMessage(push(JSON.stringify(m.data), m.attributes), commandSchema)).toEqual(cmd);
    });
  });

  it('passes the traceparent as an attribute', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const m = commandMessage(
      orderPlacement,
      'o',
      ORDER,
      { step: 'payment', action: 'forward', attempt: 1 },
      tp,
    );
    expect(m.attributes.traceparent).toBe(tp);
  });

  it('distinct commands get distinct ids', () => {
    const ids = new Set<string>();
    let n = 0;
    for (const step of orderPlacement.definition.steps)
      for (const action of ['forward', 'compensate'] as const)
        for (const attempt of [1, 2, 3]) {
          ids.add(commandMessage(orderPlacement, 'o-1', ORDER, { step, action, attempt }).id);
          n += 1;
        }
    expect(ids.size).toBe(n);
  });

  it('the ordering key of inventory does not depend on the items order', () => {
    const reversed = { ...ORDER, items: [...ORDER.items].reverse() };
    const cmd = { step: 'inventory', action: 'forward', attempt: 1 } as const;
    expect(commandMessage(orderPlacement, 'o', reversed, cmd).orderingKey).toBe(
      commandMessage(orderPlacement, 'o', ORDER, cmd).orderingKey,
    );
  });

  it('an unknown step is an error', () => {
    expect(() =>
      commandMessage(orderPlacement, 'o', ORDER, { step: 'shipping', action: 'forward', attempt: 1 }),
    ).toThrow(/no binding for step shipping/);
  });

  it('every step of the definition has a binding with a command topic', () => {
    for (const step of orderPlacement.definition.steps) {
      expect(Object.values(TOPICS)).toContain(orderPlacement.steps[step]?.participant.commandTopic);
    }
  });
});

describe('replyTo / replyMessage', () => {
  it('derives the reply id from the command id and copies the routing fields', () => {
    const cmd = commandSchema.parse(
      commandMessage(orderPlacement, 'order-7', ORDER, {
        step: 'inventory',
        action: 'compensate',
        attempt: 2,
      }).data,
    );
    const reply = replyTo(cmd, 'SUCCEEDED');
    expect(reply).toEqual({
      v: 1,
      type: 'saga.reply',
      id: 'order-7:inventory:compensate:2:reply',
      sagaId: 'order-7',
      sagaType: 'order-placement',
      step: 'inventory',
      action: 'compensate',
      attempt: 2,
      outcome: 'SUCCEEDED',
    });
    expect(reply).not.toHaveProperty('reason');
    expect(replySchema.parse(reply)).toEqual(reply);
  });

  it('keeps a reason when given', () => {
    const reply = replyTo(validCommand(), 'REFUSED', 'COMPENSATED_BEFORE_FORWARD');
    expect(reply.reason).toBe('COMPENSATED_BEFORE_FORWARD');
    expect(replySchema.parse(reply)).toEqual(reply);
  });

  it('the longest ids still fit the message id schema', () => {
    const long = 'x'.repeat(64);
    const cmd = { ...validCommand(), sagaId: long, step: 'y'.repeat(64), attempt: 1000 };
    cmd.id = commandId(cmd.sagaId, cmd.step, 'compensate', 1000);
    expect(() => commandSchema.parse(cmd)).not.toThrow();
    expect(() => replySchema.parse(replyTo(cmd, 'SUCCEEDED'))).not.toThrow();
  });

  it('replyMessage publishes on saga-replies ordered by saga id', () => {
    const cmd = validCommand();
    const m = replyMessage(cmd, { outcome: 'FAILED', reason: 'UNKNOWN_CUSTOMER' });
    expect(m.topic).toBe(TOPICS.sagaReplies);
    expect(m.orderingKey).toBe(cmd.sagaId);
    expect(m.id).toBe(`${cmd.id}:reply`);
    expect(m.attributes).toEqual({
      type: 'saga.reply',
      messageId: m.id,
      sagaId: cmd.sagaId,
      step: cmd.step,
      action: cmd.action,
      orderingKey: cmd.sagaId,
    });
    expect(replySchema.parse(m.data)).toMatchObject({ outcome: 'FAILED', reason: 'UNKNOWN_CUSTOMER' });
  });
});

describe('sourceTopicOf (dead letters)', () => {
  const pushed = (attributes: Record<string, string>, subscription?: string): PushMessage =>
    parsePushEnvelope({ message: { data: b64('{}'), attributes }, subscription });

  it.each(Object.values(TOPICS))(
    '%s: the delivering dead-letter subscription decides; a forged source attribute is ignored',
    (topic) => {
      const other = Object.values(TOPICS).find((t) => t !== topic)!;
      const forged = SUBSCRIPTIONS.find((s) => s.topic === other)!;
      const m = pushed(
        { CloudPubSubDeadLetterSourceSubscription: `projects/demo-saga/subscriptions/${forged.name}` },
        `projects/demo-saga/subscriptions/${dlqTopicOf(topic)}--dead-letters`,
      );
      expect(sourceTopicOf(topology, m)).toBe(topic);
    },
  );

  it.each(Object.values(TOPICS))(
    '%s: from the dead-letter subscription name when the attribute is missing',
    (topic) => {
      const dlqSub = SUBSCRIPTIONS.find((s) => s.topic === dlqTopicOf(topic))!;
      expect(sourceTopicOf(topology, pushed({}, `projects/demo-saga/subscriptions/${dlqSub.name}`))).toBe(
        topic,
      );
    },
  );

  it('without a known dead-letter subscription the source is unknown (never redriven), whatever the attributes say', () => {
    const source = SUBSCRIPTIONS.find((s) => s.topic === TOPICS.paymentCommands)!;
    const claims = { CloudPubSubDeadLetterSourceSubscription: `projects/p/subscriptions/${source.name}` };
    expect(sourceTopicOf(topology, pushed(claims))).toBe('unknown');
    expect(sourceTopicOf(topology, pushed(claims, 'projects/p/subscriptions/other'))).toBe('unknown');
    // A source subscription (not a dead-letter one) delivering is not a dead letter either.
    expect(sourceTopicOf(topology, pushed(claims, `projects/p/subscriptions/${source.name}`))).toBe(
      'unknown',
    );
  });
});
