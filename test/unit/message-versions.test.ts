/**
 * Message versions (contract §6): a consumer reads every version it knows; a message of a newer version is held
 * (a retryable error, not poison); a dead letter says why it got there (UNSUPPORTED_VERSION,
 * UNKNOWN_DEFINITION_VERSION, MAX_DELIVERY_ATTEMPTS). Pure: no Pub/Sub, no Firestore.
 */
import { z } from 'zod';
import { classifyDeadLetter } from '../../shared/runtime/dead-letters';
import { start } from '../../shared/runtime/engine/engine';
import { HeldError, isRetryable, PermanentError, UnsupportedVersionError } from '../../shared/runtime/errors';
import {
  COMMAND_VERSIONS,
  commandSchema,
  newerVersion,
  replySchema,
  replyTo,
  type CommandMessage,
  type MessageVersions,
  type ReplyMessage,
} from '../../shared/runtime/messages';
import { parseCommand, parsePushEnvelope, parseReply, type PushMessage } from '../../shared/runtime/push';
import { Registry } from '../../shared/runtime/registry';
import { commandMessage } from '../../shared/runtime/saga/binding';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { registry } from '../../shared/registry';
import { orderPlacement, type OrderData } from '../../shared/sagas/order-placement/definition';
import { tripBookingV1, tripBookingV2, type TripData } from '../../shared/sagas/trip-booking/definition';
import { dlqTopicOf, TOPICS, topology } from '../../shared/topology';

const ORDER: OrderData = {
  orderId: 'order-7',
  customerId: 'c-1',
  items: [{ sku: 'sku-1', quantity: 1, unitPriceCents: 100 }],
  totalCents: 100,
  paymentToken: 'tok_visa',
};
const command = (): CommandMessage =>
  commandSchema.parse(
    commandMessage(orderPlacement, ORDER.orderId, ORDER, { step: 'credit', action: 'forward', attempt: 1 })
      .data,
  );

function push(message: unknown, subscription?: string): PushMessage {
  const data = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)).toString(
    'base64',
  );
  return parsePushEnvelope({ message: { data, attributes: {}, messageId: '1' }, subscription });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

/** A consumer that also reads version 2 (a command with an optional `note`), upgraded to the shape the code uses. */
const commandV2 = commandSchema
  .extend({ v: z.literal(2), note: z.string().max(100).optional() })
  .transform(({ note: _note, ...m }): CommandMessage => ({ ...m, v: 1 }));
const READS_V2: MessageVersions<CommandMessage> = {
  schemas: new Map<number, z.ZodType<CommandMessage>>([
    [1, commandSchema],
    [2, commandV2],
  ]),
};

describe('a consumer reads every message version it knows', () => {
  it('today: version 1 of commands and replies', () => {
    expect(parseCommand(push(command()))).toEqual(command());
    const reply = replyTo(command(), 'SUCCEEDED');
    expect(parseReply(push(reply))).toEqual(reply);
  });

  it('a consumer knowing versions 1 and 2 processes both (the older one too)', () => {
    expect(parseCommand(push(command()), READS_V2)).toEqual(command());
    expect(parseCommand(push({ ...command(), v: 2, note: 'new field' }), READS_V2)).toEqual(command());
    // Each version is validated with its own schema: `note` does not exist in version 1.
    expect(
      (thrown(() => parseCommand(push({ ...command(), note: 'x' }), READS_V2)) as PermanentError).reason,
    ).toBe('SCHEMA_VIOLATION');
  });
});

describe('a message of a newer version than its consumer knows is held, not poison', () => {
  it.each([
    ['a command v2 (today’s consumer)', () => parseCommand(push({ ...command(), v: 2 })), 2],
    ['a reply v2', () => parseReply(push({ ...replyTo(command(), 'SUCCEEDED'), v: 2 })), 2],
    [
      'a command v3 (a consumer knowing 1 and 2)',
      () => parseCommand(push({ ...command(), v: 3 }), READS_V2),
      3,
    ],
    // A newer version may change anything: only `v` is read before the consumer gives up for now.
    ['a v2 message with fields v1 does not have', () => parseCommand(push({ v: 2, type: 'saga.other' })), 2],
  ])('%s → UnsupportedVersionError (retryable: HTTP 500, Pub/Sub redelivers)', (_what, parse, version) => {
    const err = thrown(parse);
    expect(err).toBeInstanceOf(UnsupportedVersionError);
    expect(err).toBeInstanceOf(HeldError);
    expect(err).not.toBeInstanceOf(PermanentError);
    expect(isRetryable(err)).toBe(true);
    expect((err as UnsupportedVersionError).reason).toBe('UNSUPPORTED_VERSION');
    expect((err as UnsupportedVersionError).version).toBe(version);
  });

  it.each([
    ['v 0', { v: 0 }],
    ['v as a string', { v: '2' }],
    ['v 1.5', { v: 1.5 }],
    ['no v', { v: undefined }],
  ])('%s is not a version: SCHEMA_VIOLATION at v (poison)', (_what, patch) => {
    const err = thrown(() => parseCommand(push({ ...command(), ...patch })));
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).reason).toBe('SCHEMA_VIOLATION');
    expect((err as Error).message).toContain('at v:');
  });

  it('a known version with a violation stays poison', () => {
    const err = thrown(() => parseCommand(push({ ...command(), attempt: 0 })));
    expect((err as PermanentError).reason).toBe('SCHEMA_VIOLATION');
    expect(newerVersion({ v: 2 }, COMMAND_VERSIONS)).toBe(2);
    expect(newerVersion({ v: 1 }, COMMAND_VERSIONS)).toBeNull();
    expect(newerVersion([2], COMMAND_VERSIONS)).toBeNull();
  });
});

describe('classifyDeadLetter: the reason a dead letter is recorded with', () => {
  const OPTS = { stepTimeoutMs: 1000, scheduleToStartMs: 10_000, compensationMaxAttempts: 3 };
  const trip: TripData = {
    tripId: 'trip-9',
    customerId: 'c-1',
    flight: { flightId: 'f-1', seats: 1, priceCents: 1 },
    hotel: { hotelId: 'h-1', rooms: 1, priceCents: 1 },
    car: null,
    totalCents: 2,
    paymentToken: 'tok_visa',
  };
  const v2Saga: SagaDoc = {
    ...start(tripBookingV2.definition, trip.tripId, 0, OPTS, ['car']).state,
    data: { ...trip },
    createdAt: 0,
    updatedAt: 0,
  };
  const flightCmd = commandMessage(tripBookingV2, trip.tripId, trip, {
    step: 'flight',
    action: 'forward',
    attempt: 1,
  }).data as CommandMessage;
  const flightReply: ReplyMessage = replySchema.parse(replyTo(flightCmd, 'SUCCEEDED'));
  /** This code knows trip-booking v1 only. */
  const v1Only = new Registry({
    participants: registry.participants(),
    sagas: [orderPlacement, tripBookingV1],
  });
  const sagas = (doc: SagaDoc | null | Error) => ({
    get: (): Promise<SagaDoc | null> => (doc instanceof Error ? Promise.reject(doc) : Promise.resolve(doc)),
  });
  const dlq = (topic: string) => `projects/p/subscriptions/${dlqTopicOf(topic)}--dead-letters`;
  const classify = (message: unknown, topic: string, doc: SagaDoc | null | Error = v2Saga, r = v1Only) =>
    classifyDeadLetter({ registry: r, topology, sagas: sagas(doc) }, push(message, dlq(topic)));

  it('a command or reply of a newer message version → UNSUPPORTED_VERSION', async () => {
    expect(await classify({ ...command(), v: 2 }, TOPICS.creditCommands)).toMatchObject({
      reason: 'UNSUPPORTED_VERSION',
      detail: expect.stringMatching(/version 2 .*redrive/) as unknown,
    });
    expect((await classify({ ...flightReply, v: 5 }, TOPICS.sagaReplies)).reason).toBe('UNSUPPORTED_VERSION');
  });

  it('a command or reply of a saga whose definition version this code does not know → UNKNOWN_DEFINITION_VERSION', async () => {
    expect(await classify(flightCmd, TOPICS.flightCommands)).toMatchObject({
      reason: 'UNKNOWN_DEFINITION_VERSION',
      detail: expect.stringMatching(/trip-9 runs on trip-booking definition version 2.*known: 1/) as unknown,
    });
    expect((await classify(flightReply, TOPICS.sagaReplies)).reason).toBe('UNKNOWN_DEFINITION_VERSION');
  });

  it.each([
    ['a command of a saga whose version is known', flightCmd, TOPICS.flightCommands, v2Saga, registry],
    ['a command of a saga that does not exist', flightCmd, TOPICS.flightCommands, null, v1Only],
    ['a reply of a saga that does not exist', flightReply, TOPICS.sagaReplies, null, v1Only],
    ['not JSON', 'not json', TOPICS.flightCommands, v2Saga, v1Only],
    ['a message failing its schema', { ...flightCmd, attempt: 0 }, TOPICS.flightCommands, v2Saga, v1Only],
    [
      'a tick (not a saga message), even with a v',
      { type: 'saga.tick', v: 9 },
      TOPICS.sagaTicks,
      v2Saga,
      v1Only,
    ],
    ['a read Firestore refuses (no retry helps)', flightCmd, TOPICS.flightCommands, grpc(3), v1Only],
  ])('%s → MAX_DELIVERY_ATTEMPTS', async (_what, message, topic, doc, r) => {
    expect(await classify(message, topic, doc, r)).toEqual({
      reason: 'MAX_DELIVERY_ATTEMPTS',
      detail: 'delivery attempts exhausted',
    });
  });

  it('a saga read that may pass is retried (the dead letter is not recorded with a guess)', async () => {
    await expect(classify(flightCmd, TOPICS.flightCommands, grpc(14))).rejects.toMatchObject({ code: 14 });
  });
});

function grpc(code: number): Error {
  return Object.assign(new Error(`grpc ${code}`), { code });
}
