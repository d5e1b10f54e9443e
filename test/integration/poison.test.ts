/**
 * Messages that can never be processed, through the real push handler and DeadLetterStore on the emulators:
 * errors no retry can fix are dead-lettered at once, every request gets its own record, and no message — however
 * malformed its text — is unrecordable.
 */
import { recordDeadLetter } from '../../shared/runtime/dead-letters';
import { inventoryParticipant } from '../../functions/inventory/service';
import { isRetryable } from '../../shared/runtime/errors';
import { pushHandler } from '../../shared/runtime/http/push-handler';
import { commandSchema } from '../../shared/runtime/messages';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { parseMessage, parsePushEnvelope } from '../../shared/runtime/push';
import { INVENTORY_COLLECTIONS } from '../../shared/participants/inventory';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { DeadLetter } from '../../shared/runtime/store/dead-letters';
import { TOPICS } from '../../shared/topology';
import { command, issue, order } from '../support/commands';
import { integrationEnv, type IntegrationEnv } from '../support/integration';
import { envelope, invoke } from '../support/push';

let env: IntegrationEnv;

beforeAll(async () => {
  env = await integrationEnv('it-poison');
});
afterAll(async () => env.close());

/** The inventory function's handler (functions/inventory/index.ts), on this test's context. */
const inventoryHandler = () =>
  pushHandler(
    TOPICS.inventoryCommands,
    () => env.ctx,
    async (push) => {
      await runTxParticipant(env.ctx, inventoryParticipant(env.db), parseMessage(push, commandSchema));
    },
  );

async function deadLetters(): Promise<DeadLetter[]> {
  return (await env.db.collection(COLLECTIONS.deadLetters).get()).docs.map((d) => d.data() as DeadLetter);
}

test('a participant hitting NOT_FOUND (its product was deleted) dead-letters the command at once, not after retries', async () => {
  await env.seed([], [{ sku: 'gone', available: 5 }]);
  const o = order({ customerId: 'alice', items: [{ sku: 'gone', quantity: 2, unitPriceCents: 10 }] });
  await issue(env.db, o);
  const reserve = await runTxParticipant(
    env.ctx,
    inventoryParticipant(env.db),
    command(o, 'inventory', 'forward'),
  );
  expect(reserve.outcome).toEqual({ outcome: 'SUCCEEDED' });
  await env.db.collection(INVENTORY_COLLECTIONS.products).doc('gone').delete();

  // The compensation's update of the deleted product fails with NOT_FOUND: a retry can never succeed.
  const release = command(o, 'inventory', 'compensate');
  const direct = await runTxParticipant(env.ctx, inventoryParticipant(env.db), release).catch(
    (e: unknown) => e,
  );
  expect(direct).toMatchObject({ code: 5 });
  expect(isRetryable(direct)).toBe(false);

  const answer = await invoke(inventoryHandler(), envelope(JSON.stringify(release), { sagaId: o.orderId }));
  expect(answer.status).toBe(204); // acked on the first delivery: nothing for Pub/Sub to retry
  const mine = (await deadLetters()).filter((d) => d.sagaId === o.orderId);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({
    sourceTopic: TOPICS.inventoryCommands,
    reason: 'NOT_FOUND',
    messageId: release.id,
  });
  expect(mine[0]!.detail).toMatch(/NOT_FOUND/);
  expect(JSON.parse(mine[0]!.data)).toMatchObject({ step: 'inventory', action: 'compensate' });
});

test('every request that is not a push envelope gets its own dead-letter record', async () => {
  const handler = inventoryHandler();
  const probe = `probe-${Date.now()}`;
  const bodies = [{ probe }, { probe }, { probe, other: true }];
  for (const body of bodies) expect((await invoke(handler, body)).status).toBe(204);
  const mine = (await deadLetters()).filter((d) => d.data.includes(probe));
  expect(mine).toHaveLength(bodies.length);
  expect(new Set(mine.map((d) => d.id)).size).toBe(bodies.length);
  for (const d of mine)
    expect(d).toMatchObject({ reason: 'BAD_ENVELOPE', sourceTopic: TOPICS.inventoryCommands });
});

/** `{"sagaId":"\ud800"}` as raw bytes: JSON text whose escape JSON.parse turns into a lone UTF-16 surrogate. */
const LONE_SURROGATE_JSON = '{"sagaId":"\\ud800","id":"m-\\udfff"}';

describe('a message with lone surrogates is recorded (none is unrecordable)', () => {
  const attributes = {
    sagaId: '\ud800',
    note: 'x\udc00y',
    '\udbff': 'key is a lone surrogate',
    '': 'empty key',
    __reserved__: 'Firestore-reserved key',
    plain: 'kept as is',
  };

  test('through DeadLetterStore', async () => {
    const id = await env.ctx.deadLetters.record({
      sourceTopic: TOPICS.creditCommands,
      subscription: 'projects/p/subscriptions/\ud800',
      data: LONE_SURROGATE_JSON,
      attributes,
      deliveryCount: 5,
      reason: 'MAX_DELIVERY_ATTEMPTS',
      detail: 'saga \ud800 failed',
      dedupeKey: `lone-${Date.now()}`,
    });
    const d = await env.ctx.deadLetters.get(id);
    expect(d).toMatchObject({
      sourceTopic: TOPICS.creditCommands,
      sagaId: '\ufffd',
      messageId: 'm-\ufffd',
      subscription: 'projects/p/subscriptions/\ufffd',
      detail: 'saga \ufffd failed',
      data: LONE_SURROGATE_JSON, // escapes are ASCII: the text itself is storable as it is
      dataBase64: Buffer.from(LONE_SURROGATE_JSON).toString('base64'),
      dataTruncated: false,
      attributes: {
        sagaId: '\ufffd',
        note: 'x\ufffdy',
        '\ufffd': 'key is a lone surrogate',
        '~': 'empty key',
        '~__reserved__': 'Firestore-reserved key',
        plain: 'kept as is',
      },
    });
    // The originals, exactly, for redrive.
    expect(JSON.parse(d!.attributesJson!)).toEqual(attributes);
  });

  test('through a push handler (poison: recorded at once, acked)', async () => {
    const answer = await invoke(
      inventoryHandler(),
      envelope(LONE_SURROGATE_JSON, { probe: 'lone-push', sagaId: '\ud800' }),
    );
    expect(answer.status).toBe(204);
    const d = (await deadLetters()).find((x) => x.attributes.probe === 'lone-push');
    expect(d).toMatchObject({ reason: 'UNKNOWN_TYPE', sagaId: '\ufffd', data: LONE_SURROGATE_JSON });
  });

  test('through the dead-letters function, with data that is not even UTF-8 kept byte for byte', async () => {
    const bytes = Buffer.concat([
      Buffer.from(LONE_SURROGATE_JSON),
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]),
    ]);
    const push = parsePushEnvelope(
      envelope(bytes, {
        CloudPubSubDeadLetterSourceSubscription: 'projects/p/subscriptions/\ud800',
        CloudPubSubDeadLetterSourceDeliveryCount: '5',
        probe: 'lone-dlq',
      }),
    );
    const id = await recordDeadLetter(env.ctx.deadLetters, env.ctx.topology, push);
    const d = await env.ctx.deadLetters.get(id);
    expect(d).toMatchObject({ reason: 'MAX_DELIVERY_ATTEMPTS', deliveryCount: 5, dataTruncated: false });
    expect(Buffer.from(d!.dataBase64!, 'base64').equals(bytes)).toBe(true);
    expect(d!.data.startsWith(LONE_SURROGATE_JSON)).toBe(true);
  });
});
