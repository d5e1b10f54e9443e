/** The order-placement saga's api: `POST /orders`, `GET /orders/{orderId}` (contract §3). */
import { z } from 'zod';
import { defineSagaApi } from '../../runtime/api/declarations';
import { wellFormedText } from '../../runtime/api/http';
import { outcomeOf, sagaViewSchema } from '../../runtime/api/views';
import { idSchema } from '../../runtime/messages';
import {
  orderDataSchema,
  orderItemSchema,
  orderPlacement,
  REJECTION_REASONS,
  type OrderData,
} from './definition';

export const placeOrderSchema = z
  .object({
    customerId: idSchema,
    items: z
      .array(orderItemSchema)
      .min(1)
      .max(50)
      .superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((item, i) => {
          if (seen.has(item.sku))
            ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: `duplicate sku ${item.sku}` });
          seen.add(item.sku);
        });
      })
      .describe('1-50 items, each sku at most once'),
    paymentToken: wellFormedText(64),
  })
  .strict();
export type PlaceOrderRequest = z.infer<typeof placeOrderSchema>;

export const orderViewSchema = z.object({
  orderId: z.string(),
  customerId: z.string(),
  items: z.array(orderItemSchema),
  totalCents: z.number().int(),
  status: z.enum(['PENDING', 'APPROVED', 'REJECTED']),
  rejectionReason: z.enum(REJECTION_REASONS).nullable(),
  createdAt: z.string(),
  saga: sagaViewSchema,
});

const ORDER_STATUS = { SUCCEEDED: 'APPROVED', REJECTED: 'REJECTED', PENDING: 'PENDING' } as const;

export const orderApi = defineSagaApi({
  versions: [orderPlacement],
  resource: 'orders',
  idName: 'orderId',
  what: 'order',
  request: placeOrderSchema,
  data: (req: PlaceOrderRequest, orderId: string): OrderData => ({
    orderId,
    customerId: req.customerId,
    items: req.items,
    totalCents: req.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
    paymentToken: req.paymentToken,
  }),
  view: (doc, saga) => {
    const data = orderDataSchema.parse(doc.data);
    const status = ORDER_STATUS[outcomeOf(doc)];
    return {
      orderId: data.orderId,
      customerId: data.customerId,
      items: data.items,
      totalCents: data.totalCents,
      status,
      rejectionReason: status === 'REJECTED' ? doc.failureReason : null,
      createdAt: saga.createdAt,
      saga,
    };
  },
  viewSchema: orderViewSchema,
});
