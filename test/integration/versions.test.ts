/**
 * Versions on the emulators, with two deployments over one project: "old" code (trip-booking v1 only, message
 * version 1 only) and "new" code (trip-booking v1 and v2; a consumer reading message version 2).
 *   - New sagas start on the newest version, or the one SAGA_START_VERSIONS names.
 *   - A message of a newer version is held by old code (retried, never acted on), dead-lettered as
 *     UNSUPPORTED_VERSION, and processed once redriven to code that knows it.
 *   - A saga of a definition version old code does not know is held by its participants, orchestrator, sweeper and
 *     dead-letters function (nothing advanced, nothing timed out), and completes once new code runs.
 *   - `npm run saga -- versions` counts sagas per type and definition version (runs the built CLI: npm run build).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { z } from 'zod';
import { redrive } from '../../cli/redrive';
import type { VersionRow } from '../../cli/versions';
import { seedData } from '../../emulator/seed';
import { ApiService } from '../../functions/api/service';
import { carsParticipant } from '../../functions/cars/service';
import { buildContext, type Context } from '../../functions/context';
import { creditParticipant } from '../../functions/credit/service';
import { deadLettersHandler } from '../../functions/dead-letters';
import { flightsParticipant } from '../../functions/flights/service';
import { hotelsParticipant } from '../../functions/hotels/service';
import { PaymentService } from '../../functions/payment/service';
import { admissionFromConfig } from '../../shared/runtime/admission';
import { isTerminal } from '../../shared/runtime/engine/engine';
import { pushHandler } from '../../shared/runtime/http/push-handler';
import {
  commandSchema,
  replySchema,
  replyTo,
  type CommandMessage,
  type MessageVersions,
  type ReplyMessage,
} from '../../shared/runtime/messages';
import { runTxParticipant, type TxParticipant } from '../../shared/runtime/participants/transactional';
import { parseCommand, parseReply, type PushMessage } from '../../shared/runtime/push';
import { Registry } from '../../shared/runtime/registry';
import { commandMessage } from '../../shared/runtime/saga/binding';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { DeadLetter } from '../../shared/runtime/store/dead-letters';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { sweep } from '../../shared/runtime/sweeper';
import { FLIGHT_COLLECTIONS } from '../../shared/participants/flights';
import { registry } from '../../shared/registry';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import { tripApi } from '../../shared/sagas/trip-booking/api';
import { TRIP_BOOKING, tripBookingV1, tripBookingV2 } from '../../shared/sagas/trip-booking/definition';
import { dlqTopicOf, TOPICS } from '../../shared/topology';
import { command, issue, order } from '../support/commands';
import { integrationEnv, sleep, type IntegrationEnv } from '../support/integration';
import { envelope, invoke } from '../support/push';

/** The old deployment knows trip-booking v1 only. */
const oldRegistry = new Registry({
  participants: registry.participants(),
  sagas: [orderPlacement, tripBookingV1],
});

let env: IntegrationEnv; // old code
let next: Context; // new code, same project
const subs: Subscription[] = [];

beforeAll(async () => {
  env = await integrationEnv('it-versions', {}, { registry: oldRegistry });
  next = buildContext(env.ctx.config, env.db, env.ctx.publisher, { faultsMode: 'throw' });
  await env.seed([{ customerId: 'c-1', creditLimitCents: 1_000_000 }], []);
  await seedData(env.db, {
    flights: [{ flightId: 'f-1', seats: 10 }],
    hotels: [{ hotelId: 'h-1', rooms: 10 }],
    cars: [{ carClass: 'compact', available: 10 }],
  });
});
afterAll(async () => {
  await Promise.all(subs.map((s) => s.close()));
  await env.close();
});

/** Every message arriving on `topic` from now on. */
async function listen(topic: string): Promise<Message[]> {
  const [sub] = await env.pubsub.topic(topic).createSubscription(`v-${randomBytes(4).toString('hex')}`);
  subs.push(sub);
  const got: Message[] = [];
  sub.on('message', (m: Message) => {
    got.push(m);
    m.ack();
  });
  return got;
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

/** A message as a push envelope, as delivered by `topic`'s dead-letter subscription after `attempts` deliveries. */
function deadLettered(data: unknown, topic: string, attributes: Record<string, string> = {}) {
  const body = envelope(JSON.stringify(data), {
    ...attributes,
    CloudPubSubDeadLetterSourceDeliveryCount: '5',
  });
  body.subscription = `projects/${env.projectId}/subscriptions/${dlqTopicOf(topic)}--dead-letters`;
  return body;
}

async function deadLetters(): Promise<DeadLetter[]> {
  return (await env.db.collection(COLLECTIONS.deadLetters).get()).docs.map((d) => d.data() as DeadLetter);
}

async function saga(id: string): Promise<SagaDoc> {
  const doc = await env.ctx.sagas.get(id);
  if (!doc) throw new Error(`no saga ${id}`);
  return doc;
}

const seats = async (flightId: string): Promise<number> =>
  Number((await env.db.collection(FLIGHT_COLLECTIONS.flights).doc(flightId).get()).get('seatsAvailable'));

const inboxHas = async (consumer: string, messageId: string): Promise<boolean> =>
  (await env.db.collection(COLLECTIONS.inbox).doc(`${consumer}:${messageId}`).get()).exists;

function tripBody(car = true) {
  return {
    customerId: 'c-1',
    flight: { flightId: 'f-1', seats: 1, priceCents: 100 },
    hotel: { hotelId: 'h-1', rooms: 1, priceCents: 100 },
    ...(car ? { car: { carClass: 'compact', priceCents: 100 } } : {}),
    paymentToken: 'tok_visa',
  };
}

async function startTrip(ctx: Context, car = true): Promise<string> {
  const started = await new ApiService(ctx, admissionFromConfig(ctx)).start(
    tripApi,
    tripApi.request.parse(tripBody(car)),
    null,
  );
  return started.sagaId;
}

describe('new sagas start on the newest definition version unless SAGA_START_VERSIONS names one', () => {
  test('trip-booking: v2 by default, v1 with trip-booking=1; the saga view shows the version', async () => {
    const v2 = await saga(await startTrip(next));
    expect(v2.definitionVersion).toBe(2);
    const rolledBack = buildContext(
      { ...env.ctx.config, startVersions: new Map([[TRIP_BOOKING, 1]]) },
      env.db,
      env.ctx.publisher,
    );
    const v1 = await saga(await startTrip(rolledBack));
    expect(v1.definitionVersion).toBe(1);
    const service = new ApiService(next, admissionFromConfig(next));
    expect(await service.saga(v1.sagaId)).toMatchObject({ type: TRIP_BOOKING, version: 1 });
    expect(await service.view(tripApi, v2.sagaId)).toMatchObject({
      tripId: v2.sagaId,
      saga: { version: 2 },
    });
  });

  test('a composition whose SAGA_START_VERSIONS names a version its registry does not know fails, naming it', () => {
    const cfg = { ...env.ctx.config, startVersions: new Map([[TRIP_BOOKING, 2]]) };
    expect(() => buildContext(cfg, env.db, env.ctx.publisher, { registry: oldRegistry })).toThrow(
      /SAGA_START_VERSIONS: saga type trip-booking has no definition version 2 \(known: 1\)/,
    );
  });
});

describe('a message of a newer version than its consumer knows is held, not poison', () => {
  /** New code: a credit consumer that also reads command version 2 (which adds an optional `note`). */
  const READS_V2: MessageVersions<CommandMessage> = {
    schemas: new Map<number, z.ZodType<CommandMessage>>([
      [1, commandSchema],
      [
        2,
        commandSchema
          .extend({ v: z.literal(2), note: z.string().optional() })
          .transform(({ note: _n, ...m }) => ({ ...m, v: 1 as const })),
      ],
    ]),
  };
  const credit = (ctx: Context, versions?: MessageVersions<CommandMessage>) =>
    pushHandler(
      TOPICS.creditCommands,
      () => ctx,
      async (push: PushMessage) => {
        await runTxParticipant(ctx, creditParticipant(ctx.db), parseCommand(push, versions));
      },
    );

  test('retried (500) without effect, dead-lettered UNSUPPORTED_VERSION, processed once redriven to code that knows it', async () => {
    const o = order({ customerId: 'c-1', totalCents: 700 });
    await issue(env.db, o);
    const cmd = { ...command(o, 'credit', 'forward'), v: 2, note: 'from the future' };
    const attributes = { sagaId: o.orderId, messageId: cmd.id, orderingKey: 'customer:c-1' };
    const before = await env.creditUsed('c-1');

    for (let delivery = 1; delivery <= 3; delivery += 1) {
      const answer = await invoke(credit(env.ctx), envelope(JSON.stringify(cmd), attributes, 'held-1'));
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({ error: { code: 'UNSUPPORTED_VERSION' } });
    }
    expect(await env.creditUsed('c-1')).toBe(before);
    expect(await inboxHas('credit', cmd.id)).toBe(false);
    expect((await deadLetters()).filter((d) => d.sagaId === o.orderId)).toEqual([]); // not poison

    // Delivery attempts run out: the dead-letters function records why, and does not time the step out.
    const dl = await invoke(
      deadLettersHandler(() => env.ctx),
      deadLettered(cmd, TOPICS.creditCommands, attributes),
    );
    expect(dl.status).toBe(204);
    const [record] = (await deadLetters()).filter((d) => d.sagaId === o.orderId);
    expect(record).toMatchObject({
      sourceTopic: TOPICS.creditCommands,
      reason: 'UNSUPPORTED_VERSION',
      messageId: cmd.id,
    });
    expect(await inboxHas('orchestrator', `timeout:${o.orderId}:credit:forward:1`)).toBe(false);

    // New code runs: the operator redrives; the consumer that reads version 2 processes it.
    const arrived = await listen(TOPICS.creditCommands);
    const replies = await listen(TOPICS.sagaReplies);
    expect(await redrive(env.ctx.deadLetters, env.pubsub, { id: record!.id, force: false })).toEqual([
      { id: record!.id, result: 'redriven', detail: TOPICS.creditCommands },
    ]);
    const m = await until(() => arrived.find((x) => x.attributes.redrivenFrom === record!.id));
    const redriven = envelope(m.data, m.attributes, m.id);
    expect((await invoke(credit(env.ctx), redriven)).status).toBe(500); // old code still holds it
    expect((await invoke(credit(next, READS_V2), redriven)).status).toBe(204);
    expect(await env.creditUsed('c-1')).toBe(before + 700);
    const reply = await until(() =>
      replies
        .map((r) => JSON.parse(r.data.toString('utf8')) as ReplyMessage)
        .find((r) => r.sagaId === o.orderId),
    );
    expect(reply).toMatchObject({ v: 1, step: 'credit', outcome: 'SUCCEEDED' });
  });

  test('a reply of a newer version is held by the orchestrator: the saga does not move', async () => {
    const o = order({ customerId: 'c-1', totalCents: 1 });
    await issue(env.db, o);
    const before = await saga(o.orderId);
    const reply = { ...replyTo(command(o, 'credit', 'forward'), 'SUCCEEDED'), v: 3 };
    const orchestrator = pushHandler(
      TOPICS.sagaReplies,
      () => env.ctx,
      async (push) => {
        await env.ctx.orchestrator.onReply(parseReply(push));
      },
    );
    const answer = await invoke(orchestrator, envelope(JSON.stringify(reply), { sagaId: o.orderId }));
    expect(answer).toMatchObject({ status: 500, body: { error: { code: 'UNSUPPORTED_VERSION' } } });
    expect(await saga(o.orderId)).toEqual(before);
  });
});

describe('a saga of a definition version the running code does not know is held, and completes once new code runs', () => {
  const participants: Record<string, (ctx: Context) => TxParticipant<unknown>> = {
    flight: (ctx) => flightsParticipant(ctx.db),
    hotel: (ctx) => hotelsParticipant(ctx.db),
    car: (ctx) => carsParticipant(ctx.db),
  };
  /** Runs `cmd` on a participant of `ctx`; the reply it recorded. */
  async function perform(ctx: Context, cmd: CommandMessage): Promise<ReplyMessage> {
    if (cmd.step === 'payment') {
      await new PaymentService(ctx.db, ctx, ctx.gateway).handle(cmd);
      const [recordRef] = ctx.store.progressRefs('payment', cmd.id);
      return replySchema.parse(ctx.store.recordOf(await recordRef.get())?.outgoing[0]?.data);
    }
    const { outcome } = await runTxParticipant(ctx, participants[cmd.step]!(ctx), cmd);
    return replyTo(cmd, outcome!.outcome, outcome!.reason);
  }
  const awaited = (doc: SagaDoc): CommandMessage =>
    commandMessage(tripBookingV2, doc.sagaId, doc.data, doc.awaiting!).data as CommandMessage;

  test('participants, orchestrator, sweeper and dead-letters of the old code hold it; the new code finishes it', async () => {
    const tripId = await startTrip(next);
    const started = await saga(tripId);
    expect(started).toMatchObject({ definitionVersion: 2, awaiting: { step: 'flight' } });
    const flightCmd = awaited(started);
    const seatsBefore = await seats('f-1');

    // Old participant: held (retryable), nothing reserved, no inbox record.
    const flightsOld = pushHandler(
      TOPICS.flightCommands,
      () => env.ctx,
      async (push) => {
        await runTxParticipant(env.ctx, flightsParticipant(env.db), parseCommand(push));
      },
    );
    const held = await invoke(flightsOld, envelope(JSON.stringify(flightCmd), { sagaId: tripId }));
    expect(held).toMatchObject({ status: 500, body: { error: { code: 'UNKNOWN_DEFINITION_VERSION' } } });
    expect(await seats('f-1')).toBe(seatsBefore);
    expect(await inboxHas('flights', flightCmd.id)).toBe(false);

    // Its dead letter: recorded with the reason; the step is not timed out.
    const dl = await invoke(
      deadLettersHandler(() => env.ctx),
      deadLettered(flightCmd, TOPICS.flightCommands, { sagaId: tripId }),
    );
    expect(dl.status).toBe(204);
    expect((await deadLetters()).find((d) => d.sagaId === tripId)).toMatchObject({
      sourceTopic: TOPICS.flightCommands,
      reason: 'UNKNOWN_DEFINITION_VERSION',
      detail: expect.stringMatching(/definition version 2/) as unknown,
    });
    expect(await saga(tripId)).toEqual(started);

    // The new participant performs it; its reply reaches the old orchestrator: held, the saga does not move.
    const flightReply = await perform(next, flightCmd);
    expect(flightReply.outcome).toBe('SUCCEEDED');
    const orchestratorOld = pushHandler(
      TOPICS.sagaReplies,
      () => env.ctx,
      async (push) => {
        await env.ctx.orchestrator.onReply(parseReply(push));
      },
    );
    const replyAnswer = await invoke(
      orchestratorOld,
      envelope(JSON.stringify(flightReply), { sagaId: tripId }),
    );
    expect(replyAnswer).toMatchObject({
      status: 500,
      body: { error: { code: 'UNKNOWN_DEFINITION_VERSION' } },
    });
    expect(await saga(tripId)).toEqual(started);

    // The old sweeper pages past it, overdue as it is, without timing it out.
    const overdue = { ...env.ctx, now: () => started.deadlineAt! + 60_000 };
    const report = await sweep(overdue);
    expect(report.held).toBeGreaterThanOrEqual(1);
    expect(await saga(tripId)).toEqual(started);

    // The reply's dead letter is recorded UNKNOWN_DEFINITION_VERSION; redriven to the new orchestrator, it applies.
    expect(
      (
        await invoke(
          deadLettersHandler(() => env.ctx),
          deadLettered(flightReply, TOPICS.sagaReplies, { sagaId: tripId, messageId: flightReply.id }),
        )
      ).status,
    ).toBe(204);
    const replyRecord = (await deadLetters()).find(
      (d) => d.sourceTopic === TOPICS.sagaReplies && d.sagaId === tripId,
    );
    expect(replyRecord).toMatchObject({ reason: 'UNKNOWN_DEFINITION_VERSION', messageId: flightReply.id });
    const arrived = await listen(TOPICS.sagaReplies);
    await redrive(env.ctx.deadLetters, env.pubsub, { id: replyRecord!.id, force: false });
    const m = await until(() => arrived.find((x) => x.attributes.redrivenFrom === replyRecord!.id));
    const orchestratorNew = pushHandler(
      TOPICS.sagaReplies,
      () => next,
      async (push) => {
        await next.orchestrator.onReply(parseReply(push));
      },
    );
    expect((await invoke(orchestratorNew, envelope(m.data, m.attributes, m.id))).status).toBe(204);
    expect((await saga(tripId)).awaiting?.step).toBe('hotel');

    // The new code runs the rest: hotel, car, payment (v2's stages; sequential until the engine runs them).
    for (let i = 0; i < 10; i += 1) {
      const doc = await saga(tripId);
      if (isTerminal(doc)) break;
      await next.orchestrator.onReply(await perform(next, awaited(doc)));
    }
    const done = await saga(tripId);
    expect(done).toMatchObject({ status: 'SUCCEEDED', definitionVersion: 2 });
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['flight', 'SUCCEEDED'],
      ['hotel', 'SUCCEEDED'],
      ['car', 'SUCCEEDED'],
      ['payment', 'SUCCEEDED'],
    ]);
    expect(await seats('f-1')).toBe(seatsBefore - 1);
  });

  test('once new code runs, its sweeper does not hold it: the step timeout ends it', async () => {
    const tripId = await startTrip(next, false);
    const started = await saga(tripId);
    const late = started.awaiting!.issuedAt! + next.config.scheduleToStartMs + 1;
    await sweep({ ...env.ctx, now: () => late });
    expect(await saga(tripId)).toEqual(started); // old code: held
    // New code, its clock past the step's schedule-to-start bound (nobody ever took the command).
    const newLater = buildContext(env.ctx.config, env.db, env.ctx.publisher, {
      faultsMode: 'throw',
      now: () => late,
    });
    const report = await sweep(newLater);
    expect(report.held).toBe(0);
    const timedOut = await saga(tripId);
    expect(timedOut).toMatchObject({
      status: 'COMPENSATING',
      failureReason: 'STEP_TIMEOUT',
      definitionVersion: 2,
    });
    // The timed-out flight is compensated (its effect is unknown); the new participant confirms the release.
    for (let i = 0; i < 5; i += 1) {
      const doc = await saga(tripId);
      if (isTerminal(doc)) break;
      await newLater.orchestrator.onReply(await perform(next, awaited(doc)));
    }
    expect(await saga(tripId)).toMatchObject({ status: 'ABORTED', failureReason: 'STEP_TIMEOUT' });
  });
});

describe('npm run saga -- versions', () => {
  function cli(extraEnv: Record<string, string>, ...args: string[]) {
    return spawnSync(
      process.execPath,
      [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), ...args],
      {
        env: { ...process.env, GOOGLE_CLOUD_PROJECT: env.projectId, ...extraEnv },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
  }

  test('each type and version: steps, running, finished, where new sagas start; versions the code does not know', async () => {
    // A saga of a version no deployment here knows, still running.
    const future = { ...(await saga(await startTrip(next))), definitionVersion: 7 };
    const id = `future-${randomBytes(3).toString('hex')}`;
    await env.db
      .collection(COLLECTIONS.sagas)
      .doc(id)
      .set({ ...future, sagaId: id });
    const all = (await env.db.collection(COLLECTIONS.sagas).get()).docs.map((d) => d.data() as SagaDoc);
    const count = (type: string, v: number, running: boolean) =>
      all.filter(
        (s) =>
          s.type === type &&
          (s.definitionVersion ?? 1) === v &&
          (s.status === 'STARTED' || s.status === 'COMPENSATING') === running,
      ).length;

    const r = cli({ SAGA_START_VERSIONS: 'trip-booking=1' }, 'versions', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as VersionRow[];
    expect(rows.map((x) => [x.type, x.version, x.known, x.startsNew])).toEqual([
      ['order-placement', 1, true, true],
      ['trip-booking', 1, true, true],
      ['trip-booking', 2, true, false],
      ['trip-booking', 7, false, false],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({
        running: count(row.type, row.version, true),
        finished: count(row.type, row.version, false),
      });
    }
    expect(rows.find((x) => x.version === 2)).toMatchObject({
      flow: 'flight → hotel ∥ car → payment',
      stages: [['flight'], ['hotel', 'car'], ['payment']],
    });
    expect(rows.find((x) => x.version === 2)!.finished).toBeGreaterThanOrEqual(1);
    expect(rows.find((x) => x.version === 7)!.running).toBe(1);

    const text = cli({}, 'versions');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^type\s+version\s+steps\s+running\s+finished\s+new sagas\n/);
    expect(text.stdout).toMatch(
      /\ntrip-booking\s+v2\s+flight → hotel ∥ car → payment\s+\d+\s+\d+\s+start here\n/,
    );
    expect(text.stdout).toMatch(/\ntrip-booking\s+v7\s+\(unknown to this code\)\s+1\s+0\n/);
  });

  test('an unknown type or version in SAGA_START_VERSIONS stops it with a message naming it', () => {
    const badVersion = cli({ SAGA_START_VERSIONS: 'trip-booking=9' }, 'versions');
    expect(badVersion.status).toBe(2);
    expect(badVersion.stderr).toMatch(
      /SAGA_START_VERSIONS: saga type trip-booking has no definition version 9/,
    );
    const badType = cli({ SAGA_START_VERSIONS: 'nope=1' }, 'versions');
    expect(badType.status).toBe(2);
    expect(badType.stderr).toMatch(/SAGA_START_VERSIONS: unknown saga type nope/);
    const malformed = cli({ SAGA_START_VERSIONS: 'trip-booking' }, 'versions');
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/SAGA_START_VERSIONS: malformed entry "trip-booking"/);
  });
});
