/**
 * The payment participant's contract: charges an amount with a payment token, refunds it. Shared by every saga
 * that takes money; `orderId` is the id of what is paid for (an order, a trip: the saga's id). With its read view.
 */
import { z } from 'zod';
import type { ResourceApi } from '../runtime/api/declarations';
import { readResource } from '../runtime/api/resource-views';
import { idSchema } from '../runtime/messages';
import { declareParticipant } from '../runtime/registry';
import { COLLECTIONS } from '../runtime/store/collections';

export const paymentPayloadSchema = z
  .object({
    orderId: idSchema,
    amountCents: z.number().int().min(0),
    paymentToken: z.string().min(1).max(64),
  })
  .strict();
export type PaymentPayload = z.infer<typeof paymentPayloadSchema>;

export const payment = declareParticipant({
  name: 'payment',
  folder: 'payment',
  commandTopic: 'payment-commands',
  ordered: false,
  payloadSchema: paymentPayloadSchema,
});

/** Stored payment states; CHARGING and REFUNDING are in flight (shown as NONE / CHARGED by the api). */
export type PaymentState = 'CHARGING' | 'CHARGED' | 'DECLINED' | 'REFUNDING' | 'REFUNDED' | 'CANCELLED';

/** payments/{orderId}: what the payment participant recorded. */
export interface PaymentDoc {
  orderId: string;
  amountCents: number;
  status: PaymentState;
  /** For REFUNDING: the state before the refund started. */
  before?: PaymentState;
}

export const PUBLIC_PAYMENT_STATUSES = ['NONE', 'CHARGED', 'REFUNDED', 'DECLINED', 'CANCELLED'] as const;

/** What GET /payments/{id} shows for a stored state. */
export function publicPaymentStatus(doc: PaymentDoc | null): (typeof PUBLIC_PAYMENT_STATUSES)[number] {
  if (!doc) return 'NONE';
  switch (doc.status) {
    case 'CHARGING':
      return 'NONE';
    case 'REFUNDING':
      return doc.before === 'CHARGED' ? 'CHARGED' : 'NONE';
    // Shown as stored; so is a status this code does not know (the stored document is not validated).
    case 'CHARGED':
    case 'DECLINED':
    case 'REFUNDED':
    case 'CANCELLED':
    default:
      return doc.status;
  }
}

/** GET /payments/{orderId}. Never 404: an id the payment participant never saw is `NONE` (contract §3). */
export const paymentsView: ResourceApi = {
  resource: 'payments',
  idName: 'orderId',
  what: 'payment',
  read: async (db, id) => {
    const snap = await readResource(db, COLLECTIONS.payments, id);
    const doc = snap ? (snap.data() as PaymentDoc) : null;
    return { orderId: id, status: publicPaymentStatus(doc), amountCents: doc?.amountCents ?? 0 };
  },
  viewSchema: z.object({
    orderId: z.string(),
    status: z.enum(PUBLIC_PAYMENT_STATUSES),
    amountCents: z.number().int(),
  }),
  everyIdFound: true,
};
