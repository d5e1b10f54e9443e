/**
 * This deployment's sagas and participants: the one declaration from which the topology, IAM, the harness, the
 * terraform variables, the bench's floor, the api routes and the views follow. Adding a saga type or a participant
 * is one entry here plus its own folder; the runtime is untouched.
 */
import type { ResourceApi, SagaApi } from './runtime/api/declarations';
import { Registry } from './runtime/registry';
import { cars, carsView } from './participants/cars';
import { credit, customersView } from './participants/credit';
import { flights, flightsView } from './participants/flights';
import { hotels, hotelsView } from './participants/hotels';
import { inventory, inventoryView } from './participants/inventory';
import { payment, paymentsView } from './participants/payment';
import { orderApi } from './sagas/order-placement/api';
import { tripApi } from './sagas/trip-booking/api';

/** Every saga type, with its api (`POST /<resource>`, `GET /<resource>/{id}`); each api names every version's binding. */
export const SAGA_APIS: readonly SagaApi[] = [orderApi, tripApi];

/** The participants' read views (`GET /<resource>/{id}`). */
export const RESOURCE_APIS: readonly ResourceApi[] = [
  customersView,
  inventoryView,
  flightsView,
  hotelsView,
  carsView,
  paymentsView,
];

export const registry = new Registry({
  participants: [credit, inventory, payment, flights, hotels, cars],
  sagas: SAGA_APIS.flatMap((a) => a.versions),
});
