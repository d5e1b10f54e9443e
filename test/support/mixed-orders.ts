/**
 * Deterministic batches of mixed orders (approvals and every kind of rejection) and mixed trips (with and without a
 * car, NO_SEATS on a small flight, declined payments) over a small seed.
 */
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
  flights: [
    { flightId: 'k-f-big', seats: 100 },
    // Four trips want 2 seats each: at most one gets them, the others are NO_SEATS.
    { flightId: 'k-f-small', seats: 3 },
  ],
  hotels: [{ hotelId: 'k-h', rooms: 50 }],
  cars: [{ carClass: 'k-compact', available: 20 }],
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

export interface MixedTrip {
  customerId: string;
  flight: { flightId: string; seats: number; priceCents: number };
  hotel: { hotelId: string; rooms: number; priceCents: number };
  car?: { carClass: string; priceCents: number };
  paymentToken: string;
}

const TRIPS: readonly [flightId: string, seats: number, rooms: number, car: boolean, token: string][] = [
  ['k-f-big', 2, 1, true, 'tok_visa'],
  ['k-f-small', 2, 1, false, 'tok_visa'],
  ['k-f-big', 1, 2, true, 'tok_chargeDeclined'],
  ['k-f-small', 2, 1, true, 'tok_visa'],
  ['k-f-big', 1, 1, false, 'tok_chargeDeclined'],
  ['k-f-big', 2, 1, false, 'tok_flaky'],
  ['k-f-small', 2, 1, false, 'tok_visa'],
  ['k-f-big', 1, 1, true, 'tok_visa'],
  ['k-f-small', 2, 1, true, 'tok_visa'],
  ['k-f-big', 3, 2, false, 'tok_visa'],
];

/** Ten trips (contract §8 bodies) over chaosSeed. */
export function mixedTrips(): MixedTrip[] {
  return TRIPS.map(([flightId, seats, rooms, car, paymentToken], i) => ({
    customerId: 'k-rich',
    flight: { flightId, seats, priceCents: 20_000 + i * 1_000 },
    hotel: { hotelId: 'k-h', rooms, priceCents: 15_000 },
    ...(car ? { car: { carClass: 'k-compact', priceCents: 5_000 } } : {}),
    paymentToken,
  }));
}
