/** The flights participant's contract: reserves seats on a flight per trip, releases them; and its read view. */
import { z } from 'zod';
import { counterView } from '../runtime/api/resource-views';
import { idSchema } from '../runtime/messages';
import { declareParticipant } from '../runtime/registry';

export const flightPayloadSchema = z
  .object({ tripId: idSchema, flightId: idSchema, seats: z.number().int().min(1).max(9) })
  .strict();
export type FlightPayload = z.infer<typeof flightPayloadSchema>;

/** Where the flights participant stores its data. */
export const FLIGHT_COLLECTIONS = {
  /** flights/{flightId} {flightId, seatsAvailable}. */
  flights: 'flights',
  /** Per-trip reservation records (also tombstones). Doc id = trip id. */
  reservations: 'flight-reservations',
} as const;

export const flights = declareParticipant({
  name: 'flights',
  folder: 'flights',
  commandTopic: 'flight-commands',
  // Ordered by flight: one flight's document is never contended.
  ordered: true,
  payloadSchema: flightPayloadSchema,
});

/** GET /flights/{flightId}: the seats available. */
export const flightsView = counterView(
  'flights',
  'flightId',
  'flight',
  FLIGHT_COLLECTIONS.flights,
  'seatsAvailable',
);
