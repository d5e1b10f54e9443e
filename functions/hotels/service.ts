/** Hotels participant: reserves a trip's rooms in its hotel, releases them on compensation. */
import type { Firestore } from '@google-cloud/firestore';
import { HOTEL_COLLECTIONS, hotels, type HotelPayload } from '../../shared/participants/hotels';
import { countedIn, type ReservationSpec } from '../../shared/runtime/participants/reservation';
import { firestoreReservationParticipant } from '../../shared/runtime/participants/reservation-store';
import type { TxParticipant } from '../../shared/runtime/participants/transactional';

export const hotelReservation: ReservationSpec<HotelPayload> = {
  participant: hotels,
  key: (p) => p.tripId,
  wants: (p) => [{ resourceId: p.hotelId, units: p.rooms }],
  reasons: { unknown: 'UNKNOWN_HOTEL', insufficient: 'NO_ROOMS' },
  records: HOTEL_COLLECTIONS.reservations,
  resource: { collection: HOTEL_COLLECTIONS.hotels, ...countedIn('roomsAvailable') },
};

export function hotelsParticipant(db: Firestore): TxParticipant<HotelPayload> {
  return firestoreReservationParticipant(db, hotelReservation);
}
