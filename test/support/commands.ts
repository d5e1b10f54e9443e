/** Builds the exact command messages the orchestrator would publish, for driving participants directly. */
import { randomUUID } from 'node:crypto';
import { commandMessage } from '../../shared/saga/binding';
import type { CommandMessage } from '../../shared/messages';
import { orderPlacement, type OrderData } from '../../shared/saga/order-placement';
import { isRetryable } from '../../shared/errors';

export function order(partial: Partial<OrderData> & Pick<OrderData, 'customerId'>): OrderData {
  const items = partial.items ?? [{ sku: 'sku-1', quantity: 1, unitPriceCents: 1000 }];
  return {
    orderId: partial.orderId ?? randomUUID(),
    customerId: partial.customerId,
    items,
    totalCents: partial.totalCents ?? items.reduce((s, i) => s + i.quantity * i.unitPriceCents, 0),
    paymentToken: partial.paymentToken ?? 'tok_visa',
  };
}

export function command(
  data: OrderData,
  step: string,
  action: 'forward' | 'compensate',
  attempt = 1,
): CommandMessage {
  return commandMessage(orderPlacement, data.orderId, data, { step, action, attempt }).data as CommandMessage;
}

/** Calls fn until it does not throw a retryable error (what Pub/Sub redelivery does), at most `max` times. */
export async function redeliverUntilDone<T>(
  fn: () => Promise<T>,
  max = 50,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(), attempts: attempt };
    } catch (err) {
      if (!isRetryable(err) || attempt >= max) throw err;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
}
