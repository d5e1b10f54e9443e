/**
 * Credit participant: reserves an order's total against the customer's credit limit, releases it on compensation.
 * credit-reservations/{orderId} records what happened to each order (RESERVED, REJECTED, RELEASED); a release that
 * arrives first leaves a RELEASED tombstone so the late reserve is REFUSED.
 */
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { creditPayloadSchema, type CreditPayload } from '../../shared/messages';
import {
  outcomeOfReservation,
  type ReservationRecord,
  type StepOutcome,
  type TxParticipant,
} from '../../shared/participant';
import { COLLECTIONS, docId } from '../../shared/store/collections';

interface CreditReservation extends ReservationRecord {
  orderId: string;
  customerId: string;
  amountCents: number;
  tombstone?: boolean;
}

interface Customer {
  customerId: string;
  creditLimitCents: number;
  creditUsedCents: number;
}

export function creditParticipant(db: Firestore): TxParticipant<CreditPayload> {
  const reservation = (orderId: string) => db.collection(COLLECTIONS.creditReservations).doc(orderId);
  const customer = (customerId: string) => db.collection(COLLECTIONS.customers).doc(docId(customerId));

  return {
    name: 'credit',
    payloadSchema: creditPayloadSchema,

    reads: (action, p) =>
      action === 'forward' ? [reservation(p.orderId), customer(p.customerId)] : [reservation(p.orderId)],

    forward(tx, p, [resSnap, custSnap]): StepOutcome {
      const existing = resSnap!.data() as CreditReservation | undefined;
      if (existing) return outcomeOfReservation(existing);
      const base = { orderId: p.orderId, customerId: p.customerId, amountCents: p.amountCents };
      const c = custSnap!.data() as Customer | undefined;
      if (!c) {
        tx.create(reservation(p.orderId), { ...base, status: 'REJECTED', reason: 'UNKNOWN_CUSTOMER' });
        return { outcome: 'FAILED', reason: 'UNKNOWN_CUSTOMER' };
      }
      if (c.creditUsedCents + p.amountCents > c.creditLimitCents) {
        tx.create(reservation(p.orderId), { ...base, status: 'REJECTED', reason: 'CREDIT_LIMIT_EXCEEDED' });
        return { outcome: 'FAILED', reason: 'CREDIT_LIMIT_EXCEEDED' };
      }
      tx.update(customer(p.customerId), { creditUsedCents: c.creditUsedCents + p.amountCents });
      tx.create(reservation(p.orderId), { ...base, status: 'RESERVED' });
      return { outcome: 'SUCCEEDED' };
    },

    compensate(tx, p, [snap]): StepOutcome {
      const existing = snap!.data() as CreditReservation | undefined;
      if (!existing) {
        // Compensation overtook the reserve: leave a tombstone so the late reserve is refused.
        tx.create(reservation(p.orderId), {
          orderId: p.orderId,
          customerId: p.customerId,
          amountCents: 0,
          status: 'RELEASED',
          tombstone: true,
        });
        return { outcome: 'SUCCEEDED' };
      }
      if (existing.status === 'RESERVED') {
        tx.update(customer(existing.customerId), {
          creditUsedCents: FieldValue.increment(-existing.amountCents),
        });
        tx.update(reservation(p.orderId), { status: 'RELEASED' });
      }
      return { outcome: 'SUCCEEDED' };
    },
  };
}
