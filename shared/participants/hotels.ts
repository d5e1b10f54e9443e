/** The hotels participant's contract: reserves rooms in a hotel per trip, releases them; and its read view. */
import { z } from 'zod';
import { counterView } from '../runtime/api/resource-views';
import { idSchema } from '../runtime/messages';
import { declareParticipant } from '../runtime/registry';

export const hotelPayloadSchema = z
  .object({ tripId: idSchema, hotelId: idSchema, rooms: z.number().int().min(1).max(9) })
  .strict();
export type HotelPayload = z.infer<typeof hotelPayloadSchema>;

/** Where the hotels participant stores its data. */
export const HOTEL_COLLECTIONS = {
  /** hotels/{hotelId} {hotelId, roomsAvailable}. */
  hotels: 'hotels',
  /** Per-trip reservation records (also tombstones). Doc id = trip id. */
  reservations: 'hotel-reservations',
} as const;

export const hotels = declareParticipant({
  name: 'hotels',
  folder: 'hotels',
  commandTopic: 'hotel-commands',
  // Ordered by hotel: one hotel's document is never contended.
  ordered: true,
  payloadSchema: hotelPayloadSchema,
});

/** GET /hotels/{hotelId}: the rooms available. */
export const hotelsView = counterView(
  'hotels',
  'hotelId',
  'hotel',
  HOTEL_COLLECTIONS.hotels,
  'roomsAvailable',
);
