/**
 * The seed file (contract §4) and its upsert into Firestore: a seeded customer gets exactly that credit limit and
 * creditUsedCents 0; a seeded product, flight, hotel or car class gets exactly that `available` / `seats` / `rooms`.
 */
import type { Firestore } from '@google-cloud/firestore';
import * as fs from 'node:fs';
import { z } from 'zod';
import { CAR_COLLECTIONS } from '../shared/participants/cars';
import { CREDIT_COLLECTIONS } from '../shared/participants/credit';
import { FLIGHT_COLLECTIONS } from '../shared/participants/flights';
import { HOTEL_COLLECTIONS } from '../shared/participants/hotels';
import { INVENTORY_COLLECTIONS } from '../shared/participants/inventory';
import { docId } from '../shared/runtime/store/collections';
import { firestoreClient } from './clients';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_-]');
const count = z.number().int().min(0);

function unique<T>(key: (item: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(key(item)))
        ctx.addIssue({ code: 'custom', path: [i], message: `duplicate ${what} ${key(item)}` });
      seen.add(key(item));
    });
  };
}

const customer = z.strictObject({ customerId: id, creditLimitCents: count });
const product = z.strictObject({ sku: id, available: count });
const flight = z.strictObject({ flightId: id, seats: count });
const hotel = z.strictObject({ hotelId: id, rooms: count });
const car = z.strictObject({ carClass: id, available: count });

export const seedSchema = z.strictObject({
  customers: z
    .array(customer)
    .superRefine(unique((c) => c.customerId, 'customerId'))
    .default([]),
  products: z
    .array(product)
    .superRefine(unique((p) => p.sku, 'sku'))
    .default([]),
  flights: z
    .array(flight)
    .superRefine(unique((f) => f.flightId, 'flightId'))
    .default([]),
  hotels: z
    .array(hotel)
    .superRefine(unique((h) => h.hotelId, 'hotelId'))
    .default([]),
  cars: z
    .array(car)
    .superRefine(unique((c) => c.carClass, 'carClass'))
    .default([]),
});

export type SeedData = z.infer<typeof seedSchema>;
/** Seed data before defaults: every array optional. */
export type SeedInput = z.input<typeof seedSchema>;

/** The ids upserted, by kind. */
export interface SeedSummary {
  customers: string[];
  products: string[];
  flights: string[];
  hotels: string[];
  cars: string[];
}

/** `3 customers, 3 products, 2 flights, 2 hotels, 2 car classes` */
export function describeSeed(s: SeedSummary): string {
  return [
    `${s.customers.length} customers`,
    `${s.products.length} products`,
    `${s.flights.length} flights`,
    `${s.hotels.length} hotels`,
    `${s.cars.length} car classes`,
  ].join(', ');
}

export class SeedFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SeedFileError';
  }
}

/** `$.customers[1].creditLimitCents` */
function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`),
    '$',
  );
}

/** Validates already-parsed JSON; throws SeedFileError naming `source` and the JSON path of every problem. */
export function parseSeed(json: unknown, source: string): SeedData {
  const result = seedSchema.safeParse(json);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`);
  throw new SeedFileError(`${source}: invalid seed file:\n  ${lines.join('\n  ')}`);
}

/** Reads and validates a seed file. */
export function loadSeedFile(file: string): SeedData {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeedFileError(`${file}: cannot read seed file: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeedFileError(`${file}: $: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseSeed(json, file);
}

const BATCH_LIMIT = 500;

/** Upserts (overwrites) every customer, product, flight, hotel and car class of `data`. */
export async function seedData(firestore: Firestore, input: SeedInput): Promise<SeedSummary> {
  const data = parseSeed(input, 'seed data');
  const writes = [
    ...data.customers.map((c) => ({
      ref: firestore.collection(CREDIT_COLLECTIONS.customers).doc(docId(c.customerId)),
      value: { customerId: c.customerId, creditLimitCents: c.creditLimitCents, creditUsedCents: 0 },
    })),
    ...data.products.map((p) => ({
      ref: firestore.collection(INVENTORY_COLLECTIONS.products).doc(docId(p.sku)),
      value: { sku: p.sku, available: p.available },
    })),
    ...data.flights.map((f) => ({
      ref: firestore.collection(FLIGHT_COLLECTIONS.flights).doc(docId(f.flightId)),
      value: { flightId: f.flightId, seatsAvailable: f.seats },
    })),
    ...data.hotels.map((h) => ({
      ref: firestore.collection(HOTEL_COLLECTIONS.hotels).doc(docId(h.hotelId)),
      value: { hotelId: h.hotelId, roomsAvailable: h.rooms },
    })),
    ...data.cars.map((c) => ({
      ref: firestore.collection(CAR_COLLECTIONS.carClasses).doc(docId(c.carClass)),
      value: { carClass: c.carClass, available: c.available },
    })),
  ];
  for (let i = 0; i < writes.length; i += BATCH_LIMIT) {
    const batch = firestore.batch();
    for (const w of writes.slice(i, i + BATCH_LIMIT)) batch.set(w.ref, w.value);
    await batch.commit();
  }
  return {
    customers: data.customers.map((c) => c.customerId),
    products: data.products.map((p) => p.sku),
    flights: data.flights.map((f) => f.flightId),
    hotels: data.hotels.map((h) => h.hotelId),
    cars: data.cars.map((c) => c.carClass),
  };
}

/**
 * Reads, validates and upserts a seed file. Without `firestore`, uses a client for GOOGLE_CLOUD_PROJECT and
 * FIRESTORE_EMULATOR_HOST from the environment (closed afterwards).
 */
export async function seedFromFile(file: string, firestore?: Firestore): Promise<SeedSummary> {
  const data = loadSeedFile(file);
  const client = firestore ?? firestoreClient(process.env.GOOGLE_CLOUD_PROJECT ?? 'demo-saga');
  try {
    return await seedData(client, data);
  } finally {
    if (firestore === undefined) await client.terminate();
  }
}
