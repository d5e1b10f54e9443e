/** The trip-booking saga's api: `POST /trips`, `GET /trips/{tripId}` (contract §8). */
import { z } from 'zod';
import { defineSagaApi } from '../../runtime/api/declarations';
import { wellFormedText } from '../../runtime/api/http';
import { outcomeOf, sagaViewSchema } from '../../runtime/api/views';
import { idSchema } from '../../runtime/messages';
import {
  TRIP_REJECTION_REASONS,
  TRIP_BOOKING_VERSIONS,
  tripCarSchema,
  tripDataSchema,
  tripFlightSchema,
  tripHotelSchema,
  type TripData,
} from './definition';

export const bookTripSchema = z.strictObject({
  customerId: idSchema,
  flight: tripFlightSchema,
  hotel: tripHotelSchema,
  car: tripCarSchema.optional(),
  paymentToken: wellFormedText(64),
});
export type BookTripRequest = z.infer<typeof bookTripSchema>;

export const tripViewSchema = z.object({
  tripId: z.string(),
  customerId: z.string(),
  flight: tripFlightSchema,
  hotel: tripHotelSchema,
  car: tripCarSchema.nullable(),
  totalCents: z.number().int(),
  status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED']),
  rejectionReason: z.enum(TRIP_REJECTION_REASONS).nullable(),
  createdAt: z.string(),
  saga: sagaViewSchema,
});

const TRIP_STATUS = { SUCCEEDED: 'CONFIRMED', REJECTED: 'REJECTED', PENDING: 'PENDING' } as const;

export const tripApi = defineSagaApi({
  versions: TRIP_BOOKING_VERSIONS,
  resource: 'trips',
  idName: 'tripId',
  what: 'trip',
  request: bookTripSchema,
  data: (req: BookTripRequest, tripId: string): TripData => ({
    tripId,
    customerId: req.customerId,
    flight: req.flight,
    hotel: req.hotel,
    car: req.car ?? null,
    totalCents: req.flight.priceCents + req.hotel.priceCents + (req.car?.priceCents ?? 0),
    paymentToken: req.paymentToken,
  }),
  view: (doc, saga) => {
    const data = tripDataSchema.parse(doc.data);
    const status = TRIP_STATUS[outcomeOf(doc)];
    return {
      tripId: data.tripId,
      customerId: data.customerId,
      flight: data.flight,
      hotel: data.hotel,
      car: data.car,
      totalCents: data.totalCents,
      status,
      rejectionReason: status === 'REJECTED' ? doc.failureReason : null,
      createdAt: saga.createdAt,
      saga,
    };
  },
  viewSchema: tripViewSchema,
});
