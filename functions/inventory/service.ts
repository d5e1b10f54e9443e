/**
 * Inventory participant: reserves every item of an order, all or nothing; puts them back on compensation.
 * inventory-reservations/{orderId} records each order's reservation (and tombstones a compensation that came first).
 */
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { inventoryPayloadSchema, type InventoryPayload } from '../../shared/messages';
import {
  outcomeOfReservation,
  type ReservationRecord,
  type StepOutcome,
  type TxParticipant,
} from '../../shared/participant';
import { COLLECTIONS, docId } from '../../shared/store/collections';

interface InventoryReservation extends ReservationRecord {
  orderId: string;
  items: { sku: string; quantity: number }[];
  tombstone?: boolean;
}

export function inventoryParticipant(db: Firestore): TxParticipant<InventoryPayload> {
  const reservation = (orderId: string) => db.collection(COLLECTIONS.inventoryReservations).doc(orderId);
  const product = (sku: string) => db.collection(COLLECTIONS.products).doc(docId(sku));

  return {
    name: 'inventory',
    payloadSchema: inventoryPayloadSchema,

    reads: (action, p) =>
      action === 'forward'
        ? [reservation(p.orderId), ...p.items.map((i) => product(i.sku))]
        : [reservation(p.orderId)],

    forward(tx, p, [resSnap, ...productSnaps]): StepOutcome {
      const existing = resSnap!.data() as InventoryReservation | undefined;
      if (existing) return outcomeOfReservation(existing);
      const reject = (reason: string): StepOutcome => {
        tx.create(reservation(p.orderId), { orderId: p.orderId, items: p.items, status: 'REJECTED', reason });
        return { outcome: 'FAILED', reason };
      };
      const available: number[] = [];
      for (const snap of productSnaps) {
        if (!snap.exists) return reject('UNKNOWN_SKU');
        available.push(Number(snap.get('available')));
      }
      if (p.items.some((item, i) => available[i]! < item.quantity)) return reject('OUT_OF_STOCK');
      p.items.forEach((item, i) =>
        tx.update(product(item.sku), { available: available[i]! - item.quantity }),
      );
      tx.create(reservation(p.orderId), { orderId: p.orderId, items: p.items, status: 'RESERVED' });
      return { outcome: 'SUCCEEDED' };
    },

    compensate(tx, p, [snap]): StepOutcome {
      const existing = snap!.data() as InventoryReservation | undefined;
      if (!existing) {
        tx.create(reservation(p.orderId), {
          orderId: p.orderId,
          items: [],
          status: 'RELEASED',
          tombstone: true,
        });
        return { outcome: 'SUCCEEDED' };
      }
      if (existing.status === 'RESERVED') {
        // Blind increments: putting stock back needs no read, so it takes no read lock on a hot product.
        for (const item of existing.items) {
          tx.update(product(item.sku), { available: FieldValue.increment(item.quantity) });
        }
        tx.update(reservation(p.orderId), { status: 'RELEASED' });
      }
      return { outcome: 'SUCCEEDED' };
    },
  };
}
