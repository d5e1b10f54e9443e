/**
 * Credit participant: reserves an order's total against the customer's credit limit, releases it on compensation
 * (a reservation participant: shared/runtime/participants/reservation.ts).
 */
import type { Firestore } from '@google-cloud/firestore';
import { credit, CREDIT_COLLECTIONS, type CreditPayload } from '../../shared/participants/credit';
import type { ReservationSpec } from '../../shared/runtime/participants/reservation';
import { firestoreReservationParticipant } from '../../shared/runtime/participants/reservation-store';
import type { TxParticipant } from '../../shared/runtime/participants/transactional';

export const creditReservation: ReservationSpec<CreditPayload> = {
  participant: credit,
  key: (p) => p.orderId,
  wants: (p) => [{ resourceId: p.customerId, units: p.amountCents }],
  reasons: { unknown: 'UNKNOWN_CUSTOMER', insufficient: 'CREDIT_LIMIT_EXCEEDED' },
  records: CREDIT_COLLECTIONS.reservations,
  resource: {
    collection: CREDIT_COLLECTIONS.customers,
    available: (get) => Number(get('creditLimitCents')) - Number(get('creditUsedCents')),
    counter: { field: 'creditUsedCents', perUnit: 1 },
  },
};

export function creditParticipant(db: Firestore): TxParticipant<CreditPayload> {
  return firestoreReservationParticipant(db, creditReservation);
}
