/**
 * A definition with a parallel stage (flight → [hotel, car] → payment: trip-booking's steps, under a test-only saga
 * type) driven through the real orchestrator, the real reservation participants and the sweeper, on the emulators:
 * both commands of the stage are published at once, the saga waits for both answers, a failure compensates the
 * stage's reserved members together before the flight, and the sweeper settles each overdue command of the stage
 * on its own (answered → reply applied, queued → postponed, lost → timed out).
 */
import { randomUUID } from 'node:crypto';
import { seedData } from '../../emulator/seed';
import { carsParticipant } from '../../functions/cars/service';
import { flightsParticipant } from '../../functions/flights/service';
import { hotelsParticipant } from '../../functions/hotels/service';
import { CAR_COLLECTIONS } from '../../shared/participants/cars';
import { FLIGHT_COLLECTIONS } from '../../shared/participants/flights';
import { HOTEL_COLLECTIONS } from '../../shared/participants/hotels';
import { registry } from '../../shared/registry';
import { admissionFromConfig } from '../../shared/runtime/admission';
import { sagaView } from '../../shared/runtime/api/views';
import { SagaStarter } from '../../shared/runtime/api/starter';
import { processOnce } from '../../shared/runtime/consumer';
import { outstandingOf } from '../../shared/runtime/engine/engine';
import { commandSchema, replySchema, replyTo, type CommandMessage } from '../../shared/runtime/messages';
import {
  replyMessage,
  runTxParticipant,
  type TxParticipant,
} from '../../shared/runtime/participants/transactional';
import { Registry, type AnySagaBinding } from '../../shared/runtime/registry';
import { docId } from '../../shared/runtime/store/collections';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { sweep } from '../../shared/runtime/sweeper';
import { tripBookingV1 as tripBooking, type TripData } from '../../shared/sagas/trip-booking/definition';
import { TOPICS } from '../../shared/topology';
import { trip } from '../support/commands';
import { integrationEnv, sleep, type IntegrationEnv, type Tap } from '../support/integration';

const STEP_TIMEOUT_MS = 1500;
const GROUPED_TRIP = 'grouped-trip';
const groupedTrip: AnySagaBinding = {
  ...tripBooking,
  definition: {
    type: GROUPED_TRIP,
    steps: ['flight', 'hotel', 'car', 'payment'],
    stages: [['flight'], ['hotel', 'car'], ['payment']],
  },
};
const withGroups = new Registry({
  participants: registry.participants(),
  sagas: [...registry.sagas().filter((b) => b.definition.type !== GROUPED_TRIP), groupedTrip],
});

type Reserving = 'flight' | 'hotel' | 'car';
let env: IntegrationEnv;
let taps: Record<Reserving | 'payment', Tap>;

beforeAll(async () => {
  env = await integrationEnv(
    'it-groups',
    { SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS), SAGA_OUTBOX_GRACE_MS: '0' },
    { registry: withGroups },
  );
  taps = {
    flight: await env.tap(TOPICS.flightCommands),
    hotel: await env.tap(TOPICS.hotelCommands),
    car: await env.tap(TOPICS.carCommands),
    payment: await env.tap(TOPICS.paymentCommands),
  };
  await seedData(env.db, {
    flights: [{ flightId: 'f-g', seats: 50 }],
    hotels: [
      { hotelId: 'h-g', rooms: 50 },
      { hotelId: 'h-full', rooms: 0 },
    ],
    cars: [{ carClass: 'c-g', available: 50 }],
  });
});
afterAll(async () => env.close());

const participants: Record<Reserving, () => TxParticipant<unknown>> = {
  flight: () => flightsParticipant(env.db),
  hotel: () => hotelsParticipant(env.db),
  car: () => carsParticipant(env.db),
};

function tripData(hotelId = 'h-g'): TripData {
  return trip({
    tripId: randomUUID(),
    flight: { flightId: 'f-g', seats: 2, priceCents: 100 },
    hotel: { hotelId, rooms: 1, priceCents: 100 },
    car: { carClass: 'c-g', priceCents: 100 },
  });
}

async function startTrip(t: TripData): Promise<string> {
  const started = await new SagaStarter(env.ctx, admissionFromConfig(env.ctx)).start({
    type: GROUPED_TRIP,
    request: t,
    data: (sagaId) => ({ ...t, tripId: sagaId }),
    idempotencyKey: null,
  });
  return started.sagaId;
}

async function commandFor(
  step: Reserving | 'payment',
  sagaId: string,
  action: 'forward' | 'compensate' = 'forward',
  attempt = 1,
): Promise<CommandMessage> {
  const until = Date.now() + 15_000;
  for (;;) {
    const found = taps[step]
      .received()
      .find((c) => c.sagaId === sagaId && c.action === action && c.attempt === attempt);
    if (found) return commandSchema.parse(found);
    if (Date.now() > until) throw new Error(`no ${step} ${action} command for ${sagaId}`);
    await sleep(25);
  }
}

function sent(step: Reserving | 'payment', sagaId: string, action: 'forward' | 'compensate'): number {
  return taps[step].received().filter((c) => c.sagaId === sagaId && c.action === action).length;
}

/** The real participant performs the command (effect + recorded reply); the reply is not applied. */
async function perform(step: Reserving, cmd: CommandMessage) {
  const r = await runTxParticipant(env.ctx, participants[step](), cmd);
  const outcome = r.outcome!;
  return replySchema.parse(replyTo(cmd, outcome.outcome, outcome.reason));
}

/** The participant performs the command and the orchestrator applies its reply. */
async function answer(step: Reserving, cmd: CommandMessage) {
  return env.ctx.orchestrator.onReply(await perform(step, cmd));
}

/** Payment answers SUCCEEDED (its reply recorded as the payment participant would), applied. */
async function pay(cmd: CommandMessage) {
  const reply = replyMessage(cmd, { outcome: 'SUCCEEDED' });
  await processOnce(env.ctx, 'payment', cmd.id, [], () => ({ outgoing: [reply] }));
  return env.ctx.orchestrator.onReply(replySchema.parse(reply.data));
}

async function saga(id: string): Promise<SagaDoc> {
  const doc = await env.ctx.sagas.get(id);
  if (!doc) throw new Error(`no saga ${id}`);
  return doc;
}

async function available(): Promise<{ seats: number; rooms: number; cars: number }> {
  const get = async (collection: string, id: string, field: string) =>
    Number((await env.db.collection(collection).doc(docId(id)).get()).get(field));
  return {
    seats: await get(FLIGHT_COLLECTIONS.flights, 'f-g', 'seatsAvailable'),
    rooms: await get(HOTEL_COLLECTIONS.hotels, 'h-g', 'roomsAvailable'),
    cars: await get(CAR_COLLECTIONS.carClasses, 'c-g', 'available'),
  };
}

// The sweeper tests first: they need the cars participant to have answered nothing for a step timeout.
test('the sweeper settles each overdue command of a stage: the answered one is applied, the lost one timed out; both are released together', async () => {
  const before = await available();
  const id = await startTrip(tripData());
  await answer('flight', await commandFor('flight', id));
  const hotel = await commandFor('hotel', id);
  await commandFor('car', id);
  // The hotel answers (its reply still queued: no orchestrator runs here); nobody takes the car command.
  await perform('hotel', hotel);
  await sleep(STEP_TIMEOUT_MS + 300);
  const report = await sweep(env.ctx);
  expect(report).toMatchObject({ recovered: 1, timedOut: 1, errors: 0 });
  const s = await saga(id);
  expect(s).toMatchObject({ status: 'COMPENSATING', failureReason: 'STEP_TIMEOUT' });
  expect(s.steps.map((x) => x.status)).toEqual(['SUCCEEDED', 'COMPENSATING', 'COMPENSATING', 'PENDING']);
  // Both compensations issued together, each with its own deadline; the flight's only after both.
  expect(outstandingOf(s).map((o) => `${o.step}:${o.action}`)).toEqual([
    'car:compensate',
    'hotel:compensate',
  ]);
  expect(sagaView(s).currentSteps).toEqual(['car', 'hotel']);
  const releaseCar = await commandFor('car', id, 'compensate');
  const releaseHotel = await commandFor('hotel', id, 'compensate');
  await answer('car', releaseCar); // before its forward: a tombstone
  expect(sent('flight', id, 'compensate')).toBe(0);
  expect((await saga(id)).steps[0]!.status).toBe('SUCCEEDED');
  await answer('hotel', releaseHotel);
  await answer('flight', await commandFor('flight', id, 'compensate'));
  expect(await saga(id)).toMatchObject({ status: 'ABORTED', failureReason: 'STEP_TIMEOUT' });
  expect(await available()).toEqual(before);
});

test('a member queued behind a busy participant is postponed while its lost sibling times out; the saga waits for it', async () => {
  await sleep(STEP_TIMEOUT_MS); // the previous test's car answers are more than a step timeout old
  const before = await available();
  const id = await startTrip(tripData());
  await answer('flight', await commandFor('flight', id));
  const hotel = await commandFor('hotel', id);
  await commandFor('car', id);
  await sleep(STEP_TIMEOUT_MS + 300);
  // The hotels participant is answering other work (another trip's command), so this trip's hotel command is
  // queued; the cars participant answers nothing: the car command is lost.
  const other = await startTrip(tripData());
  await answer('flight', await commandFor('flight', other));
  await answer('hotel', await commandFor('hotel', other));
  const report = await sweep(env.ctx);
  expect(report.timedOut).toBeGreaterThanOrEqual(1);
  expect(report.postponed).toBeGreaterThanOrEqual(1);
  const s = await saga(id);
  expect(s.status).toBe('STARTED');
  expect(s.steps.map((x) => x.status)).toEqual(['SUCCEEDED', 'RUNNING', 'TIMED_OUT', 'PENDING']);
  const [queued] = outstandingOf(s);
  expect(queued).toMatchObject({ step: 'hotel', action: 'forward', postponed: 1 });
  expect(s.deadlineAt).toBe(queued!.deadlineAt);
  expect(queued!.deadlineAt).toBeGreaterThan(queued!.issuedAt! + STEP_TIMEOUT_MS);
  expect(sent('car', id, 'compensate')).toBe(0);
  // The hotel answers at last: the stage is settled, both members are released together.
  await answer('hotel', hotel);
  expect(await saga(id)).toMatchObject({ status: 'COMPENSATING', failureReason: 'STEP_TIMEOUT' });
  await answer('car', await commandFor('car', id, 'compensate'));
  await answer('hotel', await commandFor('hotel', id, 'compensate'));
  await answer('flight', await commandFor('flight', id, 'compensate'));
  expect(await saga(id)).toMatchObject({ status: 'ABORTED', failureReason: 'STEP_TIMEOUT' });
  // Finish the other trip too (its car and payment), then everything is as before but its reservation.
  await answer('car', await commandFor('car', other));
  await pay(await commandFor('payment', other));
  expect((await saga(other)).status).toBe('SUCCEEDED');
  expect(await available()).toEqual({
    seats: before.seats - 2,
    rooms: before.rooms - 1,
    cars: before.cars - 1,
  });
});

test('both commands of a stage are published at once; the next stage only after both answered', async () => {
  const id = await startTrip(tripData());
  await answer('flight', await commandFor('flight', id));
  const [hotel, car] = await Promise.all([commandFor('hotel', id), commandFor('car', id)]);
  expect(sagaView(await saga(id))).toMatchObject({ currentStep: 'hotel', currentSteps: ['hotel', 'car'] });
  await answer('car', car);
  const waiting = await saga(id);
  expect(sagaView(waiting).currentSteps).toEqual(['hotel']);
  await sleep(200);
  expect(sent('payment', id, 'forward')).toBe(0);
  // A duplicate of the car's reply changes nothing.
  expect(await env.ctx.orchestrator.onReply(replySchema.parse(replyTo(car, 'SUCCEEDED')))).toMatchObject({
    duplicate: true,
  });
  await answer('hotel', hotel);
  await pay(await commandFor('payment', id));
  const done = await saga(id);
  expect(done.status).toBe('SUCCEEDED');
  expect(sagaView(done).currentSteps).toEqual([]);
});

test('the hotel fails after the car succeeded: the saga waits for both, rejects with the hotel’s reason, releases the car then the flight', async () => {
  const before = await available();
  const id = await startTrip(tripData('h-full'));
  await answer('flight', await commandFor('flight', id));
  const [hotel, car] = await Promise.all([commandFor('hotel', id), commandFor('car', id)]);
  await answer('car', car);
  await answer('hotel', hotel);
  const s = await saga(id);
  expect(s).toMatchObject({ status: 'COMPENSATING', failureReason: 'NO_ROOMS' });
  expect(outstandingOf(s).map((o) => `${o.step}:${o.action}`)).toEqual(['car:compensate']);
  await sleep(200);
  expect(sent('flight', id, 'compensate')).toBe(0);
  expect(sent('hotel', id, 'compensate')).toBe(0);
  await answer('car', await commandFor('car', id, 'compensate'));
  await answer('flight', await commandFor('flight', id, 'compensate'));
  const end = await saga(id);
  expect(end).toMatchObject({ status: 'ABORTED', failureReason: 'NO_ROOMS' });
  expect(end.steps.map((x) => x.status)).toEqual(['COMPENSATED', 'FAILED', 'COMPENSATED', 'PENDING']);
  expect(await available()).toEqual(before);
});
