/** A one-of-each seed and the order and trip that fit it (the console and tracing end-to-end tests). */
import type { Seed } from './invariants';

export const smallSeed: Seed = {
  customers: [{ customerId: 'c-1', creditLimitCents: 10_000_000 }],
  products: [{ sku: 'sku-1', available: 100 }],
  flights: [{ flightId: 'f-1', seats: 50 }],
  hotels: [{ hotelId: 'h-1', rooms: 20 }],
  cars: [{ carClass: 'compact', available: 10 }],
};

export const smallOrder = (paymentToken: string) => ({
  customerId: 'c-1',
  items: [{ sku: 'sku-1', quantity: 1, unitPriceCents: 1250 }],
  paymentToken,
});

export const smallTrip = {
  customerId: 'c-1',
  flight: { flightId: 'f-1', seats: 2, priceCents: 45_000 },
  hotel: { hotelId: 'h-1', rooms: 1, priceCents: 30_000 },
  car: { carClass: 'compact', priceCents: 12_000 },
  paymentToken: 'tok_visa',
};
