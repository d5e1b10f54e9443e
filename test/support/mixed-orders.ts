/** A deterministic batch of mixed orders (approvals and every kind of rejection) over a small seed. */
import type { Seed } from './invariants';

export const chaosSeed: Seed = {
  customers: [
    { customerId: 'k-rich', creditLimitCents: 10_000_000 },
    { customerId: 'k-mid', creditLimitCents: 30_000 },
    { customerId: 'k-poor', creditLimitCents: 2_000 },
  ],
  products: [
    { sku: 'k-a', available: 1000 },
    { sku: 'k-b', available: 12 },
    { sku: 'k-c', available: 3 },
  ],
};

const TOKENS = ['tok_visa', 'tok_visa', 'tok_visa', 'tok_chargeDeclined', 'tok_flaky'];

export function mixedOrders(n: number): {
  customerId: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
  paymentToken: string;
}[] {
  const customers = [...chaosSeed.customers.map((c) => c.customerId), 'k-unknown'];
  const skus = [...chaosSeed.products.map((p) => p.sku), 'k-missing'];
  return Array.from({ length: n }, (_, i) => ({
    customerId: customers[(i * 7) % customers.length]!,
    items: [
      { sku: skus[(i * 5) % skus.length]!, quantity: 1 + (i % 3), unitPriceCents: 500 + ((i * 131) % 2000) },
      ...(i % 4 === 0 ? [{ sku: 'k-a', quantity: 1, unitPriceCents: 100 }] : []),
    ].filter((item, idx, all) => all.findIndex((x) => x.sku === item.sku) === idx),
    paymentToken: TOKENS[i % TOKENS.length]!,
  }));
}
