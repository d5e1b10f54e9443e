/**
 * The `trip-booking` saga (contract §8), declared as data in two definition versions with the same steps and
 * payloads: v1 runs flight → hotel → car (only if the trip has one) → payment; v2 runs hotel and car in parallel.
 * It shares the payment participant with order-placement; flights, hotels and cars are reservation participants.
 */
import { z } from 'zod';
import { idSchema } from '../../runtime/messages';
import { defineSaga, step, type StepBinding } from '../../runtime/registry';
import { cars } from '../../participants/cars';
import { flights } from '../../participants/flights';
import { hotels } from '../../participants/hotels';
import { payment } from '../../participants/payment';

const priceCents = z.number().int().min(0).max(10_000_000);
const count = z.number().int().min(1).max(9);

export const tripFlightSchema = z.strictObject({ flightId: idSchema, seats: count, priceCents });
export const tripHotelSchema = z.strictObject({ hotelId: idSchema, rooms: count, priceCents });
export const tripCarSchema = z.strictObject({ carClass: idSchema, priceCents });

export const tripDataSchema = z.object({
  tripId: idSchema,
  customerId: idSchema,
  flight: tripFlightSchema,
  hotel: tripHotelSchema,
  car: tripCarSchema.nullable(),
  totalCents: z.number().int().min(0),
  paymentToken: z.string().min(1).max(64),
});
export type TripData = z.infer<typeof tripDataSchema>;

export const TRIP_REJECTION_REASONS = [
  'UNKNOWN_FLIGHT',
  'NO_SEATS',
  'UNKNOWN_HOTEL',
  'NO_ROOMS',
  'UNKNOWN_CAR_CLASS',
  'NO_CARS',
  'PAYMENT_DECLINED',
  'STEP_TIMEOUT',
] as const;

export const TRIP_BOOKING = 'trip-booking';

/** How each step reaches its participant: the same in every version. */
const tripSteps: { [step: string]: StepBinding<TripData> } = {
  flight: step({
    participant: flights,
    payload: (d: TripData) => ({ tripId: d.tripId, flightId: d.flight.flightId, seats: d.flight.seats }),
    orderingKey: (d) => `flight:${d.flight.flightId}`,
  }),
  hotel: step({
    participant: hotels,
    payload: (d: TripData) => ({ tripId: d.tripId, hotelId: d.hotel.hotelId, rooms: d.hotel.rooms }),
    orderingKey: (d) => `hotel:${d.hotel.hotelId}`,
  }),
  car: step({
    participant: cars,
    // Only sent when the trip has a car (`when`); the payload is never built otherwise.
    payload: (d: TripData) => ({ tripId: d.tripId, carClass: d.car?.carClass ?? '' }),
    orderingKey: (d) => `car:${d.car?.carClass ?? ''}`,
    when: (d) => d.car !== null,
  }),
  payment: step({
    participant: payment,
    payload: (d: TripData) => ({
      orderId: d.tripId,
      amountCents: d.totalCents,
      paymentToken: d.paymentToken,
    }),
  }),
};

const STEPS = ['flight', 'hotel', 'car', 'payment'] as const;

/** Version 1: the steps one after the other. */
export const tripBookingV1 = defineSaga<TripData>({
  definition: { type: TRIP_BOOKING, version: 1, steps: STEPS },
  dataSchema: tripDataSchema,
  steps: tripSteps,
});

/** Version 2: hotel and car in parallel (until the engine runs stages, sequentially: the same outcomes). */
export const tripBookingV2 = defineSaga<TripData>({
  definition: {
    type: TRIP_BOOKING,
    version: 2,
    steps: STEPS,
    stages: [['flight'], ['hotel', 'car'], ['payment']],
  },
  dataSchema: tripDataSchema,
  steps: tripSteps,
});

/** Every version of trip-booking, oldest first. */
export const TRIP_BOOKING_VERSIONS = [tripBookingV1, tripBookingV2] as const;
