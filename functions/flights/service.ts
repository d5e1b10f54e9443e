/** Flights participant: reserves a trip's seats on its flight, releases them on compensation. */
import type { Firestore } from '@google-cloud/firestore';
import { FLIGHT_COLLECTIONS, flights, type FlightPayload } from '../../shared/participants/flights';
import { countedIn, type ReservationSpec } from '../../shared/runtime/participants/reservation';
import { firestoreReservationParticipant } from '../../shared/runtime/participants/reservation-store';
import type { TxParticipant } from '../../shared/runtime/participants/transactional';

export const flightReservation: ReservationSpec<FlightPayload> = {
  participant: flights,
  key: (p) => p.tripId,
  wants: (p) => [{ resourceId: p.flightId, units: p.seats }],
  reasons: { unknown: 'UNKNOWN_FLIGHT', insufficient: 'NO_SEATS' },
  records: FLIGHT_COLLECTIONS.reservations,
  resource: { collection: FLIGHT_COLLECTIONS.flights, ...countedIn('seatsAvailable') },
};

export function flightsParticipant(db: Firestore): TxParticipant<FlightPayload> {
  return firestoreReservationParticipant(db, flightReservation);
}
