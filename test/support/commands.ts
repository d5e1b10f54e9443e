/** Builds the exact command messages the orchestrator would publish, for driving participants directly. */
import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { commandMessage } from '../../shared/runtime/saga/binding';
import type { CommandMessage } from '../../shared/runtime/messages';
import { versionOf, type AnySagaBinding } from '../../shared/runtime/registry';
import { orderPlacement, type OrderData } from '../../shared/sagas/order-placement/definition';
import { tripBookingV1, type TripData } from '../../shared/sagas/trip-booking/definition';
import { isRetryable } from '../../shared/runtime/errors';
import { sagaRef, type SagaDoc } from '../../shared/runtime/store/sagas';

export function order(partial: Partial<OrderData> & Pick<OrderData, 'customerId'>): OrderData {
  const items = partial.items ?? [{ sku: 'sku-1', quantity: 1, unitPriceCents: 1000 }];
  return {
    orderId: partial.orderId ?? randomUUID(),
    customerId: partial.customerId,
    items,
    totalCents: partial.totalCents ?? items.reduce((s, i) => s + i.quantity * i.unitPriceCents, 0),
    paymentToken: partial.paymentToken ?? 'tok_visa',
  };
}

export function command(
  data: OrderData,
  step: string,
  action: 'forward' | 'compensate',
  attempt = 1,
): CommandMessage {
  return commandMessage(orderPlacement, data.orderId, data, { step, action, attempt }).data as CommandMessage;
}

/**
 * Writes the saga documents of `orders` as the orchestrator would have them once it issued every command of
 * every step (forward, and compensations up to attempt 3): participants act only on commands their saga issued
 * (shared/runtime/saga/issued.ts), and these tests drive participants directly.
 */
export async function issue(db: Firestore, ...orders: OrderData[]): Promise<void> {
  await issueSagas(
    db,
    orderPlacement,
    orders.map((o) => ({ sagaId: o.orderId, data: o })),
  );
}

/** A trip (trip-booking saga data) with defaults for what the test does not care about. */
export function trip(partial: Partial<TripData> = {}): TripData {
  const flight = partial.flight ?? { flightId: 'f-1', seats: 1, priceCents: 100 };
  const hotel = partial.hotel ?? { hotelId: 'h-1', rooms: 1, priceCents: 100 };
  const car = partial.car === undefined ? { carClass: 'compact', priceCents: 100 } : partial.car;
  return {
    tripId: partial.tripId ?? randomUUID(),
    customerId: partial.customerId ?? 'alice',
    flight,
    hotel,
    car,
    totalCents: partial.totalCents ?? flight.priceCents + hotel.priceCents + (car?.priceCents ?? 0),
    paymentToken: partial.paymentToken ?? 'tok_visa',
  };
}

export function tripCommand(
  data: TripData,
  step: string,
  action: 'forward' | 'compensate',
  attempt = 1,
): CommandMessage {
  return commandMessage(tripBookingV1, data.tripId, data, { step, action, attempt }).data as CommandMessage;
}

/** As `issue`, for trips (a trip without a car has its `car` step SKIPPED). */
export async function issueTrips(db: Firestore, ...trips: TripData[]): Promise<void> {
  await issueSagas(
    db,
    tripBookingV1,
    trips.map((t) => ({ sagaId: t.tripId, data: t, skipped: t.car === null ? ['car'] : [] })),
  );
}

async function issueSagas(
  db: Firestore,
  binding: AnySagaBinding,
  sagas: { sagaId: string; data: OrderData | TripData; skipped?: string[] }[],
): Promise<void> {
  const batch = db.batch();
  for (const s of sagas) {
    const doc: SagaDoc = {
      sagaId: s.sagaId,
      type: binding.definition.type,
      status: 'COMPENSATING',
      currentStep: null,
      failureReason: null,
      failedReason: null,
      steps: binding.definition.steps.map((name) =>
        s.skipped?.includes(name)
          ? { name, status: 'SKIPPED', attempts: 0, compensationAttempts: 0 }
          : { name, status: 'COMPENSATING', attempts: 4, compensationAttempts: 3 },
      ),
      awaiting: null,
      deadlineAt: null,
      history: [],
      version: 1,
      definitionVersion: versionOf(binding),
      data: { ...s.data },
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    batch.set(sagaRef(db, s.sagaId), doc);
  }
  await batch.commit();
}

/** Calls fn until it does not throw a retryable error (what Pub/Sub redelivery does), at most `max` times. */
export async function redeliverUntilDone<T>(
  fn: () => Promise<T>,
  max = 50,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(), attempts: attempt };
    } catch (err) {
      if (!isRetryable(err) || attempt >= max) throw err;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
}
