/**
 * Example request bodies for every saga api, keyed by its resource (`POST /<resource>`): the OpenAPI tests send
 * them and check the document's request schemas against the zod schemas with them. A saga api added to
 * shared/api.ts needs an entry here (the tests fail naming it otherwise).
 */
type Body = Record<string, unknown>;

export interface RequestExamples {
  /** Two different valid bodies (the second one reuses an Idempotency-Key for a 409). Ids of EXAMPLE_SEED. */
  valid: [Body, Body, ...Body[]];
  /** Refused by the request schema and by the document's JSON Schema alike. */
  invalid: unknown[];
  /** Refused by zod only: rules JSON Schema cannot state (the document says them in a description). */
  refusedByZodOnly: unknown[];
}

/** What the valid examples need to exist (the e2e test seeds it). */
export const EXAMPLE_SEED = {
  customers: [{ customerId: 'c-1', creditLimitCents: 1_000_000 }],
  products: [{ sku: 'sku-1', available: 100 }],
};

const item = (extra: Body = {}): Body => ({ sku: 'sku-1', quantity: 2, unitPriceCents: 1250, ...extra });
const order = (extra: Body = {}): Body => ({
  customerId: 'c-1',
  items: [item()],
  paymentToken: 'tok_visa',
  ...extra,
});

const flight = (extra: Body = {}): Body => ({ flightId: 'f-1', seats: 2, priceCents: 45_000, ...extra });
const hotel = (extra: Body = {}): Body => ({ hotelId: 'h-1', rooms: 1, priceCents: 30_000, ...extra });
const car = (extra: Body = {}): Body => ({ carClass: 'compact', priceCents: 12_000, ...extra });
const trip = (extra: Body = {}): Body => ({
  customerId: 'c-1',
  flight: flight(),
  hotel: hotel(),
  car: car(),
  paymentToken: 'tok_visa',
  ...extra,
});
const without = (body: Body, key: string): Body =>
  Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));

export const REQUEST_EXAMPLES: Record<string, RequestExamples> = {
  orders: {
    valid: [
      order(),
      order({ items: [item({ quantity: 1000, unitPriceCents: 0 }), item({ sku: 'sku-2' })] }),
      order({ paymentToken: 'tok_ünïcödé ✓' }),
    ],
    invalid: [
      [],
      'order',
      null,
      {},
      without(order(), 'customerId'),
      without(order(), 'items'),
      without(order(), 'paymentToken'),
      order({ extra: true }),
      order({ customerId: 'c 1' }),
      order({ customerId: 'c'.repeat(65) }),
      order({ customerId: 7 }),
      order({ items: [] }),
      order({ items: Array.from({ length: 51 }, (_, i) => item({ sku: `sku-${i}` })) }),
      order({ items: [item({ quantity: 0 })] }),
      order({ items: [item({ quantity: 1001 })] }),
      order({ items: [item({ quantity: 1.5 })] }),
      order({ items: [item({ quantity: '2' })] }),
      order({ items: [item({ unitPriceCents: -1 })] }),
      order({ items: [item({ unitPriceCents: 10_000_001 })] }),
      order({ items: [item({ sku: 'sku/1' })] }),
      order({ items: [item({ colour: 'red' })] }),
      order({ items: [without(item(), 'quantity')] }),
      order({ paymentToken: '' }),
      order({ paymentToken: 't'.repeat(65) }),
      order({ paymentToken: 'tok_\uD800' }),
    ],
    refusedByZodOnly: [order({ items: [item(), item({ quantity: 1 })] })],
  },
  trips: {
    valid: [
      trip(),
      without(trip(), 'car'),
      trip({ flight: flight({ seats: 9 }), hotel: hotel({ rooms: 9 }) }),
    ],
    invalid: [
      {},
      [],
      without(trip(), 'flight'),
      without(trip(), 'hotel'),
      trip({ extra: 1 }),
      trip({ car: null }),
      trip({ customerId: 'c!' }),
      trip({ flight: flight({ seats: 0 }) }),
      trip({ flight: flight({ seats: 10 }) }),
      trip({ flight: flight({ flightId: '' }) }),
      trip({ hotel: hotel({ rooms: 10 }) }),
      trip({ hotel: hotel({ priceCents: 10_000_001 }) }),
      trip({ hotel: without(hotel(), 'hotelId') }),
      trip({ car: car({ carClass: 'c'.repeat(65) }) }),
      trip({ car: car({ doors: 4 }) }),
      trip({ paymentToken: '' }),
    ],
    refusedByZodOnly: [],
  },
};

export function requestExamples(resource: string): RequestExamples {
  const examples = REQUEST_EXAMPLES[resource];
  if (!examples)
    throw new Error(`no request examples for POST /${resource}: add them to test/support/api-examples.ts`);
  return examples;
}
