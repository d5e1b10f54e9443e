/**
 * The trip phase: trip-booking version 1 (flight → hotel → car → payment) against version 2 (flight → hotel ∥ car →
 * payment), an A/B phase (bench/ab.ts): the same code on both stacks, one pinned to version 1 with
 * `SAGA_START_VERSIONS=trip-booking=1` (contract §2). Every trip has a car (version 2's group has two branches) and
 * succeeds; flights, hotels and car classes are spread so that no ordering key is hot.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EmulatorsHandle } from '../emulator/emulators';
import { abPhase, type AbFigures } from './ab';
import { note } from './progress';
import { round } from './stats';

/** Flights, hotels and car classes the trips are spread over. */
const SPREAD = 32;

export interface TripArgs {
  trips: number;
  concurrency: number;
  rounds: number;
  warmup: number;
}

export interface TripPhaseResult {
  trips: number;
  concurrency: number;
  rounds: number;
  v1: AbFigures;
  v2: AbFigures;
  /** 1 − v2 p50 ÷ v1 p50: the share of the trip's median latency (POST → terminal) the parallel group saves. */
  p50Cut: number;
  /** The same for the saga's own duration (without the api's POST, which both versions share). */
  sagaP50Cut: number;
  /** v2 sagas/s ÷ v1 sagas/s. */
  throughputRatio: number;
}

function trips(prefix: string, count: number): object[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i % SPREAD;
    return {
      customerId: `${prefix}-${i}`,
      flight: { flightId: `bench-f-${n}`, seats: 1, priceCents: 10_000 },
      hotel: { hotelId: `bench-h-${n}`, rooms: 1, priceCents: 8000 },
      car: { carClass: `bench-car-${n}`, priceCents: 3000 },
      paymentToken: 'tok_visa',
    };
  });
}

function seedFile(): string {
  const plenty = 1_000_000;
  const ids = Array.from({ length: SPREAD }, (_, n) => n);
  const seed = {
    customers: [],
    products: [],
    flights: ids.map((n) => ({ flightId: `bench-f-${n}`, seats: plenty })),
    hotels: ids.map((n) => ({ hotelId: `bench-h-${n}`, rooms: plenty })),
    cars: ids.map((n) => ({ carClass: `bench-car-${n}`, available: plenty })),
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'saga-bench-trips-')), 'seed.json');
  fs.writeFileSync(file, JSON.stringify(seed));
  return file;
}

export async function tripPhase(emulators: EmulatorsHandle, args: TripArgs): Promise<TripPhaseResult> {
  const [v1, v2] = await abPhase(emulators, {
    route: { path: '/trips', idField: 'tripId' },
    seedFile: seedFile(),
    sides: [
      { label: 'trips-v1', env: { SAGA_START_VERSIONS: 'trip-booking=1' } },
      { label: 'trips-v2', env: {} },
    ],
    bodies: trips,
    n: args.trips,
    concurrency: args.concurrency,
    rounds: args.rounds,
    warmup: args.warmup,
    succeeded: 'CONFIRMED',
  });
  const result: TripPhaseResult = {
    trips: args.trips,
    concurrency: args.concurrency,
    rounds: args.rounds,
    v1,
    v2,
    p50Cut: round(1 - v2.p50Ms / Math.max(1, v1.p50Ms), 3),
    sagaP50Cut: round(1 - v2.sagaP50Ms / Math.max(1, v1.sagaP50Ms), 3),
    throughputRatio: round(v2.sagasPerSec / Math.max(1e-9, v1.sagasPerSec), 2),
  };
  note(
    `trips: p50 v1 ${v1.p50Ms} ms, v2 ${v2.p50Ms} ms (${Math.round(result.p50Cut * 100)} % less); ` +
      `${v1.sagasPerSec} vs ${v2.sagasPerSec} trips/s; ${v1.messagesPerSaga} vs ${v2.messagesPerSaga} messages/trip`,
  );
  return result;
}
