/**
 * The reservation participant kind: holds units of countable resources per saga (a customer's credit, stock of skus,
 * seats on a flight, …), all or nothing, and gives them back on compensation. A participant declares only what it
 * reserves (a ReservationSpec); the rules, the record and the storage are shared.
 *
 * Each saga has one reservation record, keyed by the payload's saga key: RESERVED, REJECTED or RELEASED.
 *   - a reserve with no record takes every wanted unit, or none (REJECTED: unknown resource / not enough);
 *   - a repeated reserve answers from the record (RESERVED → SUCCEEDED, REJECTED → FAILED, RELEASED → REFUSED);
 *   - a release gives back what a RESERVED record holds and marks it RELEASED; any other record is left as it is;
 *   - a release with no record leaves a RELEASED tombstone, so the late reserve is REFUSED
 *     (COMPENSATED_BEFORE_FORWARD).
 *
 * The rules (`decideReserve`, `decideRelease`) are pure: wants + record + availabilities → outcome + abstract
 * writes. Storage sits behind ReservationPersistence — the idea of the AWS Lambda Powertools idempotency layer's
 * BasePersistenceLayer: the rules never touch the store, an adapter reads the record and resources and applies the
 * writes (reservation-store.ts: Firestore, inside the consumer's transaction).
 */
import type { DocumentReference, DocumentSnapshot, Transaction } from '@google-cloud/firestore';
import type { ParticipantDeclaration } from '../registry';
import {
  outcomeOfReservation,
  type ReservationRecord,
  type StepOutcome,
  type TxParticipant,
} from './transactional';

/** Units of one resource (a customer's cents, a sku's items, a flight's seats). */
export interface Hold {
  resourceId: string;
  units: number;
}

/**
 * A saga's reservation record. `holds`: what it holds (RESERVED), what it asked for (REJECTED), what it gave back
 * (RELEASED); empty on a tombstone.
 */
export interface StoredReservation extends ReservationRecord {
  key: string;
  holds: Hold[];
  tombstone?: boolean;
}

/** The business failure reasons of a reservation participant. */
export interface ReservationReasons {
  /** A wanted resource does not exist (e.g. UNKNOWN_FLIGHT). */
  unknown: string;
  /** A wanted resource has fewer units available than wanted (e.g. NO_SEATS). */
  insufficient: string;
}

/** What the rules ask the store to do, in order. */
export type ReservationWrite =
  | { op: 'createRecord'; record: StoredReservation }
  | { op: 'take'; resourceId: string; units: number }
  | { op: 'giveBack'; resourceId: string; units: number }
  | { op: 'markReleased' };

export interface Decision {
  outcome: StepOutcome;
  writes: ReservationWrite[];
}

/**
 * One hold per resource, in first-seen order: a resource wanted twice is one hold of the sum (taken and given back
 * once). Units must be non-negative integers.
 */
export function mergeWants(wants: readonly Hold[]): Hold[] {
  const byId = new Map<string, number>();
  for (const w of wants) {
    if (!Number.isSafeInteger(w.units) || w.units < 0)
      throw new Error(`reservation of ${w.resourceId}: units must be a non-negative integer, not ${w.units}`);
    byId.set(w.resourceId, (byId.get(w.resourceId) ?? 0) + w.units);
  }
  return [...byId].map(([resourceId, units]) => ({ resourceId, units }));
}

/**
 * A reserve. `available`: units available per existing resource (a wanted id that is absent does not exist).
 * Pure.
 */
export function decideReserve(input: {
  key: string;
  wants: readonly Hold[];
  record: StoredReservation | null;
  available: ReadonlyMap<string, number>;
  reasons: ReservationReasons;
}): Decision {
  const { key, record, available, reasons } = input;
  if (record) return { outcome: outcomeOfReservation(record), writes: [] };
  const holds = mergeWants(input.wants);
  const reject = (reason: string): Decision => ({
    outcome: { outcome: 'FAILED', reason },
    writes: [{ op: 'createRecord', record: { key, status: 'REJECTED', reason, holds } }],
  });
  if (holds.some((h) => !available.has(h.resourceId))) return reject(reasons.unknown);
  // `!(a >= n)`: a non-numeric availability (NaN) is not enough either.
  if (holds.some((h) => !(available.get(h.resourceId)! >= h.units))) return reject(reasons.insufficient);
  return {
    outcome: { outcome: 'SUCCEEDED' },
    writes: [
      ...holds.filter((h) => h.units > 0).map((h): ReservationWrite => ({ op: 'take', ...h })),
      { op: 'createRecord', record: { key, status: 'RESERVED', holds } },
    ],
  };
}

/** A release (the compensation). Pure. */
export function decideRelease(input: { key: string; record: StoredReservation | null }): Decision {
  const { key, record } = input;
  const ok: StepOutcome = { outcome: 'SUCCEEDED' };
  if (!record) {
    // The release overtook the reserve: the tombstone makes the late reserve REFUSED.
    return {
      outcome: ok,
      writes: [{ op: 'createRecord', record: { key, status: 'RELEASED', holds: [], tombstone: true } }],
    };
  }
  if (record.status !== 'RESERVED') return { outcome: ok, writes: [] };
  return {
    outcome: ok,
    writes: [
      ...record.holds.filter((h) => h.units > 0).map((h): ReservationWrite => ({ op: 'giveBack', ...h })),
      { op: 'markReleased' },
    ],
  };
}

/** What the rules decide on, as the store read it. */
export interface ReservationState {
  record: StoredReservation | null;
  /** Units available per wanted resource that exists. */
  available: ReadonlyMap<string, number>;
}

/**
 * The persistence port. The consumer's transaction is one batched read then writes, so reads are declared up front
 * (`reads`), decoded from their snapshots (`state`), and the rules' writes applied in the same transaction
 * (`apply`).
 */
export interface ReservationPersistence {
  /** The record of `key`, then each of `resourceIds` (none for a release: giving back needs no read). */
  reads(key: string, resourceIds: readonly string[]): DocumentReference[];
  /** The state, from the snapshots of `reads(key, resourceIds)` in the same order. */
  state(docs: readonly DocumentSnapshot[], resourceIds: readonly string[]): ReservationState;
  apply(tx: Transaction, key: string, writes: readonly ReservationWrite[]): void;
}

/** A field of a stored resource document. */
export type FieldReader = (field: string) => unknown;

/** How a resource is stored: its collection (doc id = docId(resource id)), its availability and its counter. */
export interface ResourceStorage {
  collection: string;
  /** Units available, from the resource's document. */
  available(get: FieldReader): number;
  /** Taking n units adds `perUnit × n` to `field`; giving them back subtracts it. */
  counter: { field: string; perUnit: 1 | -1 };
}

/** A resource whose document counts its available units in `field` (taking decrements it). */
export function countedIn(field: string): Pick<ResourceStorage, 'available' | 'counter'> {
  return { available: (get) => Number(get(field)), counter: { field, perUnit: -1 } };
}

/** What a reservation participant reserves: the one declaration each such participant makes. */
export interface ReservationSpec<P> {
  participant: ParticipantDeclaration<P>;
  /** The reservation key: the saga's id in the payload (orderId, tripId). */
  key(payload: P): string;
  /** What a reserve asks for, all or nothing. */
  wants(payload: P): Hold[];
  reasons: ReservationReasons;
  /** Collection of the reservation records (doc id = docId(key)). */
  records: string;
  resource: ResourceStorage;
}

/** A reservation participant: the spec's rules over a persistence port, as a transactional participant. */
export function reservationParticipant<P>(
  spec: ReservationSpec<P>,
  store: ReservationPersistence,
): TxParticipant<P> {
  const resourceIds = (p: P): string[] => mergeWants(spec.wants(p)).map((h) => h.resourceId);
  return {
    name: spec.participant.name,
    payloadSchema: spec.participant.payloadSchema,

    reads: (action, p) => store.reads(spec.key(p), action === 'forward' ? resourceIds(p) : []),

    forward(tx, p, docs) {
      const { record, available } = store.state(docs, resourceIds(p));
      const key = spec.key(p);
      const d = decideReserve({ key, wants: spec.wants(p), record, available, reasons: spec.reasons });
      store.apply(tx, key, d.writes);
      return d.outcome;
    },

    compensate(tx, p, docs) {
      const key = spec.key(p);
      const d = decideRelease({ key, record: store.state(docs, []).record });
      store.apply(tx, key, d.writes);
      return d.outcome;
    },
  };
}
