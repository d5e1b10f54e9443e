/**
 * Inventory participant: reserves every item of an order, all or nothing; puts them back on compensation
 * (a reservation participant: shared/runtime/participants/reservation.ts).
 */
import type { Firestore } from '@google-cloud/firestore';
import { inventory, INVENTORY_COLLECTIONS, type InventoryPayload } from '../../shared/participants/inventory';
import { countedIn, type ReservationSpec } from '../../shared/runtime/participants/reservation';
import { firestoreReservationParticipant } from '../../shared/runtime/participants/reservation-store';
import type { TxParticipant } from '../../shared/runtime/participants/transactional';

export const inventoryReservation: ReservationSpec<InventoryPayload> = {
  participant: inventory,
  key: (p) => p.orderId,
  wants: (p) => p.items.map((i) => ({ resourceId: i.sku, units: i.quantity })),
  reasons: { unknown: 'UNKNOWN_SKU', insufficient: 'OUT_OF_STOCK' },
  records: INVENTORY_COLLECTIONS.reservations,
  resource: { collection: INVENTORY_COLLECTIONS.products, ...countedIn('available') },
};

export function inventoryParticipant(db: Firestore): TxParticipant<InventoryPayload> {
  return firestoreReservationParticipant(db, inventoryReservation);
}
