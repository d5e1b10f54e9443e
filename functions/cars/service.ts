/** Cars participant: reserves one car of a trip's car class, releases it on compensation. */
import type { Firestore } from '@google-cloud/firestore';
import { CAR_COLLECTIONS, cars, type CarPayload } from '../../shared/participants/cars';
import { countedIn, type ReservationSpec } from '../../shared/runtime/participants/reservation';
import { firestoreReservationParticipant } from '../../shared/runtime/participants/reservation-store';
import type { TxParticipant } from '../../shared/runtime/participants/transactional';

export const carReservation: ReservationSpec<CarPayload> = {
  participant: cars,
  key: (p) => p.tripId,
  wants: (p) => [{ resourceId: p.carClass, units: 1 }],
  reasons: { unknown: 'UNKNOWN_CAR_CLASS', insufficient: 'NO_CARS' },
  records: CAR_COLLECTIONS.reservations,
  resource: { collection: CAR_COLLECTIONS.carClasses, ...countedIn('available') },
};

export function carsParticipant(db: Firestore): TxParticipant<CarPayload> {
  return firestoreReservationParticipant(db, carReservation);
}
