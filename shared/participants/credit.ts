/**
 * The credit participant's contract: reserves an amount of a customer's credit per saga, releases it; and its read
 * view.
 */
import { z } from 'zod';
import type { ResourceApi } from '../runtime/api/declarations';
import { readResource } from '../runtime/api/resource-views';
import { idSchema } from '../runtime/messages';
import { declareParticipant } from '../runtime/registry';

export const creditPayloadSchema = z
  .object({ orderId: idSchema, customerId: idSchema, amountCents: z.number().int().min(0) })
  .strict();
export type CreditPayload = z.infer<typeof creditPayloadSchema>;

/** Where the credit participant stores its data. */
export const CREDIT_COLLECTIONS = {
  /** customers/{customerId} {customerId, creditLimitCents, creditUsedCents}. */
  customers: 'customers',
  /** Per-order reservation records (also tombstones). Doc id = order id. */
  reservations: 'credit-reservations',
} as const;

export const credit = declareParticipant({
  name: 'credit',
  folder: 'credit',
  commandTopic: 'credit-commands',
  // Ordered by customer: one customer's credit document is never contended.
  ordered: true,
  payloadSchema: creditPayloadSchema,
});

/** GET /customers/{customerId}: the customer's credit limit and what is used of it. */
export const customersView: ResourceApi = {
  resource: 'customers',
  idName: 'customerId',
  what: 'customer',
  read: async (db, id) => {
    const snap = await readResource(db, CREDIT_COLLECTIONS.customers, id);
    return snap
      ? {
          customerId: id,
          creditLimitCents: Number(snap.get('creditLimitCents')),
          creditUsedCents: Number(snap.get('creditUsedCents')),
        }
      : null;
  },
  viewSchema: z.object({
    customerId: z.string(),
    creditLimitCents: z.number().int(),
    creditUsedCents: z.number().int(),
  }),
};
