/** The cars participant's contract: reserves one car of a class per trip, releases it; and its read view. */
import { z } from 'zod';
import { counterView } from '../runtime/api/resource-views';
import { idSchema } from '../runtime/messages';
import { declareParticipant } from '../runtime/registry';

export const carPayloadSchema = z.object({ tripId: idSchema, carClass: idSchema }).strict();
export type CarPayload = z.infer<typeof carPayloadSchema>;

/** Where the cars participant stores its data. */
export const CAR_COLLECTIONS = {
  /** car-classes/{carClass} {carClass, available}. */
  carClasses: 'car-classes',
  /** Per-trip reservation records (also tombstones). Doc id = trip id. */
  reservations: 'car-reservations',
} as const;

export const cars = declareParticipant({
  name: 'cars',
  folder: 'cars',
  commandTopic: 'car-commands',
  // Ordered by car class: one class's document is never contended.
  ordered: true,
  payloadSchema: carPayloadSchema,
});

/** GET /cars/{carClass}: the cars of the class available. */
export const carsView = counterView('cars', 'carClass', 'car class', CAR_COLLECTIONS.carClasses, 'available');
