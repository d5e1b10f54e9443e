/**
 * The money-and-stock invariants every fault test checks, read straight from the stack's Firestore:
 *   orders (order-placement)
 *   - every customer: creditUsedCents = sum of totals of its APPROVED orders
 *   - every sku: seeded stock - available = sum of quantities in APPROVED orders
 *   trips (trip-booking)
 *   - every flight, hotel and car class: seeded - units held by RESERVED reservation records = available, ≥ 0
 *   - a CONFIRMED trip (SUCCEEDED) holds exactly its seats, rooms and car (none without a car) and is CHARGED its total
 *   - a REJECTED trip (ABORTED) holds nothing; its payment is NONE, DECLINED, REFUNDED or CANCELLED
 *   sagas of every type
 *   - payments: CHARGED (participant, its total) and CHARGED at the gateway exactly for SUCCEEDED sagas
 *   - after settle: no saga left running
 */
import { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { CAR_COLLECTIONS } from '../../shared/participants/cars';
import { CREDIT_COLLECTIONS } from '../../shared/participants/credit';
import { FLIGHT_COLLECTIONS } from '../../shared/participants/flights';
import { HOTEL_COLLECTIONS } from '../../shared/participants/hotels';
import { INVENTORY_COLLECTIONS } from '../../shared/participants/inventory';
import { publicPaymentStatus, type PaymentDoc } from '../../shared/participants/payment';
import { TERMINAL_STATUSES } from '../../shared/runtime/engine/types';
import { COLLECTIONS, docId } from '../../shared/runtime/store/collections';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import {
  ORDER_PLACEMENT,
  orderDataSchema,
  type OrderData,
} from '../../shared/sagas/order-placement/definition';
import { TRIP_BOOKING, tripDataSchema, type TripData } from '../../shared/sagas/trip-booking/definition';

export interface Seed {
  customers: { customerId: string; creditLimitCents: number }[];
  products: { sku: string; available: number }[];
  flights?: { flightId: string; seats: number }[];
  hotels?: { hotelId: string; rooms: number }[];
  cars?: { carClass: string; available: number }[];
}

export interface InvariantReport {
  /** order-placement sagas: all, SUCCEEDED, ABORTED. */
  orders: number;
  approved: number;
  rejected: number;
  /** trip-booking sagas: all, SUCCEEDED, ABORTED. */
  trips: number;
  confirmed: number;
  rejectedTrips: number;
  /** Sagas of any type: FAILED, and not terminal. */
  failed: number;
  pending: number;
  violations: string[];
}

/** A reservation record as the reservation participants store it (reservation-store.ts). */
const reservationSchema = z.object({
  status: z.enum(['RESERVED', 'REJECTED', 'RELEASED']),
  holds: z.array(z.object({ resourceId: z.string(), units: z.number().int().min(0) })),
});
type Reservation = z.infer<typeof reservationSchema>;

/** One kind of trip resource: where it is stored and what a trip wants of it. */
interface TripResource {
  kind: string;
  collection: string;
  field: string;
  records: string;
  seeded: (seed: Seed) => { id: string; units: number }[];
  /** What a trip holds of it once CONFIRMED (null: nothing). */
  wants: (t: TripData) => { resourceId: string; units: number } | null;
}

const TRIP_RESOURCES: readonly TripResource[] = [
  {
    kind: 'flight',
    collection: FLIGHT_COLLECTIONS.flights,
    field: 'seatsAvailable',
    records: FLIGHT_COLLECTIONS.reservations,
    seeded: (s) => (s.flights ?? []).map((f) => ({ id: f.flightId, units: f.seats })),
    wants: (t) => ({ resourceId: t.flight.flightId, units: t.flight.seats }),
  },
  {
    kind: 'hotel',
    collection: HOTEL_COLLECTIONS.hotels,
    field: 'roomsAvailable',
    records: HOTEL_COLLECTIONS.reservations,
    seeded: (s) => (s.hotels ?? []).map((h) => ({ id: h.hotelId, units: h.rooms })),
    wants: (t) => ({ resourceId: t.hotel.hotelId, units: t.hotel.rooms }),
  },
  {
    kind: 'car',
    collection: CAR_COLLECTIONS.carClasses,
    field: 'available',
    records: CAR_COLLECTIONS.reservations,
    seeded: (s) => (s.cars ?? []).map((c) => ({ id: c.carClass, units: c.available })),
    wants: (t) => (t.car ? { resourceId: t.car.carClass, units: 1 } : null),
  },
];

const REJECTED_PAYMENTS: readonly string[] = ['NONE', 'DECLINED', 'REFUNDED', 'CANCELLED'];

/** Sagas of one type whose data parses with its schema; a saga whose data does not is a violation. */
function parsed<T>(
  sagas: readonly SagaDoc[],
  type: string,
  schema: z.ZodType<T>,
  violations: string[],
): { saga: SagaDoc; data: T }[] {
  return sagas
    .filter((s) => s.type === type)
    .flatMap((saga) => {
      const r = schema.safeParse(saga.data);
      if (r.success) return [{ saga, data: r.data }];
      violations.push(`${type} ${saga.sagaId}: data does not parse: ${r.error.message}`);
      return [];
    });
}

async function checkOrders(
  db: Firestore,
  seed: Seed,
  orders: readonly { saga: SagaDoc; data: OrderData }[],
  violations: string[],
): Promise<void> {
  const approved = orders.filter((o) => o.saga.status === 'SUCCEEDED').map((o) => o.data);
  for (const c of seed.customers) {
    const snap = await db.collection(CREDIT_COLLECTIONS.customers).doc(docId(c.customerId)).get();
    const expected = approved
      .filter((o) => o.customerId === c.customerId)
      .reduce((sum, o) => sum + o.totalCents, 0);
    const used = Number(snap.get('creditUsedCents'));
    if (used !== expected)
      violations.push(`customer ${c.customerId}: creditUsedCents ${used} ≠ approved total ${expected}`);
  }
  for (const p of seed.products) {
    const snap = await db.collection(INVENTORY_COLLECTIONS.products).doc(docId(p.sku)).get();
    const taken = approved
      .flatMap((o) => o.items)
      .filter((i) => i.sku === p.sku)
      .reduce((sum, i) => sum + i.quantity, 0);
    const available = Number(snap.get('available'));
    if (p.available - available !== taken)
      violations.push(`sku ${p.sku}: taken ${p.available - available} ≠ approved quantity ${taken}`);
  }
}

async function checkTrips(
  db: Firestore,
  seed: Seed,
  trips: readonly { saga: SagaDoc; data: TripData }[],
  payments: ReadonlyMap<string, PaymentDoc>,
  violations: string[],
): Promise<void> {
  for (const res of TRIP_RESOURCES) {
    const records = new Map<string, Reservation>();
    for (const d of (await db.collection(res.records).get()).docs) {
      const r = reservationSchema.safeParse(d.data());
      if (r.success) records.set(d.id, r.data);
      else violations.push(`${res.records}/${d.id}: malformed reservation record`);
    }
    const held = new Map<string, number>();
    for (const r of records.values())
      if (r.status === 'RESERVED')
        for (const h of r.holds) held.set(h.resourceId, (held.get(h.resourceId) ?? 0) + h.units);

    const seeded = res.seeded(seed);
    for (const { id, units } of seeded) {
      const snap = await db.collection(res.collection).doc(docId(id)).get();
      const available = Number(snap.get(res.field));
      const h = held.get(id) ?? 0;
      if (units - h !== available)
        violations.push(`${res.kind} ${id}: seeded ${units} − held ${h} ≠ ${res.field} ${available}`);
      if (!(available >= 0)) violations.push(`${res.kind} ${id}: ${res.field} ${available} < 0`);
    }
    for (const id of held.keys())
      if (!seeded.some((s) => s.id === id)) violations.push(`${res.kind} ${id}: held but never seeded`);

    for (const { saga, data } of trips) {
      const r = records.get(docId(data.tripId));
      const holding = r?.status === 'RESERVED';
      const want = res.wants(data);
      if (saga.status === 'SUCCEEDED') {
        if (!want) {
          if (holding) violations.push(`trip ${saga.sagaId} has no ${res.kind} but holds one`);
        } else if (!holding || JSON.stringify(r.holds) !== JSON.stringify([want])) {
          violations.push(
            `confirmed trip ${saga.sagaId}: ${res.kind} record ${JSON.stringify(r ?? null)}, not holding ${JSON.stringify(want)}`,
          );
        }
      } else if (saga.status === 'ABORTED' && holding) {
        violations.push(`rejected trip ${saga.sagaId} still holds ${res.kind} ${JSON.stringify(r.holds)}`);
      }
    }
  }
  for (const { saga, data } of trips) {
    const status = publicPaymentStatus(payments.get(data.tripId) ?? null);
    if (saga.status === 'ABORTED' && !REJECTED_PAYMENTS.includes(status))
      violations.push(`rejected trip ${saga.sagaId}: payment ${status}`);
    if (saga.status === 'SUCCEEDED' && data.car === null) {
      const car = saga.steps.find((s) => s.name === 'car');
      if (car?.status !== 'SKIPPED')
        violations.push(`trip ${saga.sagaId} without a car: step car ${car?.status}`);
    }
  }
}

export async function checkInvariants(projectId: string, seed: Seed): Promise<InvariantReport> {
  const db = new Firestore({ projectId });
  try {
    const sagas = (await db.collection(COLLECTIONS.sagas).get()).docs.map((d) => d.data() as SagaDoc);
    const violations: string[] = [];
    const orders = parsed(sagas, ORDER_PLACEMENT, orderDataSchema, violations);
    const trips = parsed(sagas, TRIP_BOOKING, tripDataSchema, violations);

    const paymentDocs = (await db.collection(COLLECTIONS.payments).get()).docs;
    const payments = new Map(paymentDocs.map((p) => [p.id, p.data() as PaymentDoc]));
    await checkOrders(db, seed, orders, violations);
    await checkTrips(db, seed, trips, payments, violations);

    // Payments, for sagas of every type: charged exactly for the SUCCEEDED ones, their total.
    const succeeded = new Map(sagas.filter((s) => s.status === 'SUCCEEDED').map((s) => [s.sagaId, s]));
    for (const [id, p] of payments) {
      const charged = p.status === 'CHARGED';
      if (charged !== succeeded.has(id))
        violations.push(
          `payment ${id}: status ${p.status} but saga ${succeeded.has(id) ? 'SUCCEEDED' : 'not SUCCEEDED'}`,
        );
    }
    const ledger = (await db.collection(COLLECTIONS.gatewayLedger).get()).docs;
    for (const l of ledger) {
      const charged = l.get('state') === 'CHARGED';
      if (charged !== succeeded.has(l.id))
        violations.push(
          `gateway ${l.id}: ${String(l.get('state'))} but saga ${succeeded.has(l.id) ? 'SUCCEEDED' : 'not SUCCEEDED'}`,
        );
    }
    const totals = new Map<string, number>([
      ...orders.map((o): [string, number] => [o.saga.sagaId, o.data.totalCents]),
      ...trips.map((t): [string, number] => [t.saga.sagaId, t.data.totalCents]),
    ]);
    for (const s of succeeded.values()) {
      const p = payments.get(s.sagaId);
      if (p?.status !== 'CHARGED')
        violations.push(`${s.type} ${s.sagaId} SUCCEEDED without a CHARGED payment`);
      else if (totals.has(s.sagaId) && p.amountCents !== totals.get(s.sagaId))
        violations.push(`${s.type} ${s.sagaId}: charged ${p.amountCents} ≠ total ${totals.get(s.sagaId)}`);
    }

    const count = (xs: readonly { saga: SagaDoc }[], status: string) =>
      xs.filter((x) => x.saga.status === status).length;
    return {
      orders: orders.length,
      approved: count(orders, 'SUCCEEDED'),
      rejected: count(orders, 'ABORTED'),
      trips: trips.length,
      confirmed: count(trips, 'SUCCEEDED'),
      rejectedTrips: count(trips, 'ABORTED'),
      failed: sagas.filter((s) => s.status === 'FAILED').length,
      pending: sagas.filter((s) => !TERMINAL_STATUSES.includes(s.status)).length,
      violations,
    };
  } finally {
    await db.terminate();
  }
}

/**
 * Polls until no saga is running (or timeout); returns the final report. Sagas still running at the timeout are a
 * violation too.
 */
export async function settle(projectId: string, seed: Seed, timeoutMs = 120_000): Promise<InvariantReport> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await checkInvariants(projectId, seed);
    if (r.pending === 0) return r;
    if (Date.now() > until)
      return {
        ...r,
        violations: [...r.violations, `${r.pending} sagas still running after ${timeoutMs} ms`],
      };
    await new Promise((res) => setTimeout(res, 500));
  }
}
