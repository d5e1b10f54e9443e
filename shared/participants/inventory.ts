/**
 * The inventory participant's contract: reserves every item of an order (all or nothing), puts them back; and its
 * read view.
 */
import { z } from 'zod';
import { counterView } from '../runtime/api/resource-views';
import { idSchema } from '../runtime/messages';
import { declareParticipant } from '../runtime/registry';

export const itemSchema = z
  .object({
    sku: idSchema,
    quantity: z.number().int().min(1).max(1000),
  })
  .strict();

export const inventoryPayloadSchema = z
  .object({
    orderId: idSchema,
    items: z
      .array(itemSchema)
      .min(1)
      .max(50)
      // The same sku twice would be decremented once but released twice (stock from nothing).
      .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku at most once'),
  })
  .strict();
export type InventoryPayload = z.infer<typeof inventoryPayloadSchema>;

/** Where the inventory participant stores its data. */
export const INVENTORY_COLLECTIONS = {
  /** products/{sku} {sku, available}. */
  products: 'products',
  /** Per-order reservation records (also tombstones). Doc id = order id. */
  reservations: 'inventory-reservations',
} as const;

export const inventory = declareParticipant({
  name: 'inventory',
  folder: 'inventory',
  commandTopic: 'inventory-commands',
  // Ordered by (smallest) sku: a hot product's commands are applied one at a time instead of fighting for locks.
  ordered: true,
  payloadSchema: inventoryPayloadSchema,
});

/** GET /inventory/{sku}: what is available. */
export const inventoryView = counterView(
  'inventory',
  'sku',
  'sku',
  INVENTORY_COLLECTIONS.products,
  'available',
);
