/**
 * The `order-placement` saga: credit → inventory → payment, declared as data.
 * The engine only sees the step names; this binding maps each step to its participant and payload.
 */
import { z } from 'zod';
import { idSchema } from '../../runtime/messages';
import { defineSaga, step } from '../../runtime/registry';
import { credit } from '../../participants/credit';
import { inventory } from '../../participants/inventory';
import { payment } from '../../participants/payment';

export const orderItemSchema = z
  .object({
    sku: idSchema,
    quantity: z.number().int().min(1).max(1000),
    unitPriceCents: z.number().int().min(0).max(10_000_000),
  })
  .strict();

export const orderDataSchema = z.object({
  orderId: idSchema,
  customerId: idSchema,
  items: z.array(orderItemSchema).min(1).max(50),
  totalCents: z.number().int().min(0),
  paymentToken: z.string().min(1).max(64),
});
export type OrderData = z.infer<typeof orderDataSchema>;

export const REJECTION_REASONS = [
  'UNKNOWN_CUSTOMER',
  'CREDIT_LIMIT_EXCEEDED',
  'UNKNOWN_SKU',
  'OUT_OF_STOCK',
  'PAYMENT_DECLINED',
  'STEP_TIMEOUT',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const ORDER_PLACEMENT = 'order-placement';

export const orderPlacement = defineSaga<OrderData>({
  definition: { type: ORDER_PLACEMENT, version: 1, steps: ['credit', 'inventory', 'payment'] },
  dataSchema: orderDataSchema,
  steps: {
    credit: step({
      participant: credit,
      payload: (d: OrderData) => ({
        orderId: d.orderId,
        customerId: d.customerId,
        amountCents: d.totalCents,
      }),
      // Serialize commands per customer: one credit document is never contended.
      orderingKey: (d) => `customer:${d.customerId}`,
    }),
    inventory: step({
      participant: inventory,
      payload: (d: OrderData) => ({
        orderId: d.orderId,
        items: d.items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
      }),
      // Serialize per (smallest) sku: a hot product's commands are applied one at a time instead of fighting for locks.
      orderingKey: (d) => `sku:${[...d.items.map((i) => i.sku)].sort()[0]!}`,
    }),
    payment: step({
      participant: payment,
      payload: (d: OrderData) => ({
        orderId: d.orderId,
        amountCents: d.totalCents,
        paymentToken: d.paymentToken,
      }),
    }),
  },
});
