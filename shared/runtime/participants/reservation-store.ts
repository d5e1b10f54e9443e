/**
 * The Firestore adapter of the reservation persistence port: records in `spec.records/{docId(key)}`, resources in
 * `spec.resource.collection/{docId(id)}`. Reads ride on the consumer's one batched read; writes go into its
 * transaction. Taking units updates a resource this transaction read (so it holds its lock); giving them back is a
 * blind `FieldValue.increment`, taking no read lock on a hot document.
 */
import { FieldValue, type DocumentSnapshot, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { docId } from '../store/collections';
import {
  reservationParticipant,
  type ReservationPersistence,
  type ReservationSpec,
  type StoredReservation,
} from './reservation';
import type { TxParticipant } from './transactional';

const storedReservationSchema = z.object({
  key: z.string(),
  status: z.enum(['RESERVED', 'REJECTED', 'RELEASED']),
  reason: z.string().optional(),
  holds: z.array(z.object({ resourceId: z.string(), units: z.number().int().min(0) })),
  tombstone: z.boolean().optional(),
});

function recordOf(snap: DocumentSnapshot | undefined): StoredReservation | null {
  if (!snap?.exists) return null;
  const r = storedReservationSchema.safeParse(snap.data());
  // Never valid on a retry: dead-lettered at once.
  if (!r.success)
    throw new PermanentError(
      `reservation record ${snap.ref.path} is malformed: ${r.error.message}`,
      'BAD_RECORD',
    );
  return r.data;
}

export function firestoreReservations(
  db: Firestore,
  spec: Pick<ReservationSpec<unknown>, 'records' | 'resource'>,
): ReservationPersistence {
  const { field, perUnit } = spec.resource.counter;
  const recordRef = (key: string) => db.collection(spec.records).doc(docId(key));
  const resourceRef = (id: string) => db.collection(spec.resource.collection).doc(docId(id));
  return {
    reads: (key, resourceIds) => [recordRef(key), ...resourceIds.map(resourceRef)],

    state([record, ...resources], resourceIds) {
      const available = new Map<string, number>();
      resourceIds.forEach((id, i) => {
        const snap = resources[i];
        if (snap?.exists)
          available.set(
            id,
            spec.resource.available((f) => snap.get(f)),
          );
      });
      return { record: recordOf(record), available };
    },

    apply(tx, key, writes) {
      for (const w of writes) {
        switch (w.op) {
          case 'createRecord':
            tx.create(recordRef(key), { ...w.record });
            break;
          case 'take':
            tx.update(resourceRef(w.resourceId), { [field]: FieldValue.increment(perUnit * w.units) });
            break;
          case 'giveBack':
            tx.update(resourceRef(w.resourceId), { [field]: FieldValue.increment(-perUnit * w.units) });
            break;
          case 'markReleased':
            tx.update(recordRef(key), { status: 'RELEASED' });
            break;
        }
      }
    },
  };
}

/** A reservation participant stored in Firestore. */
export function firestoreReservationParticipant<P>(
  db: Firestore,
  spec: ReservationSpec<P>,
): TxParticipant<P> {
  return reservationParticipant(spec, firestoreReservations(db, spec));
}
