/**
 * What a saga declares to get its api routes: `POST /<resource>` starts one (validated by `request`), and
 * `GET /<resource>/{id}` shows it (`view`, embedding the generic saga view). A participant declares read routes for
 * what it holds (`GET /<resource>/{id}`). The schemas here also generate the OpenAPI document.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { z } from 'zod';
import type { AnySagaBinding } from '../registry';
import type { SagaDoc } from '../store/sagas';
import type { SagaView } from './views';

export interface SagaApi {
  /** The saga type: routes and views are the type's, whatever version a saga runs on. */
  type: string;
  /** Every definition version of the type (new sagas start on the newest unless SAGA_START_VERSIONS says). */
  versions: readonly AnySagaBinding[];
  /** Path segment: `POST /orders`, `GET /orders/{orderId}`. */
  resource: string;
  /** Name of the id in the path and in responses (`orderId`). */
  idName: string;
  /** Singular noun for messages (`order`). */
  what: string;
  request: z.ZodType;
  /** The saga's data for a valid request (`request` parsed it) and the new saga's id. */
  data(request: unknown, sagaId: string): Record<string, unknown>;
  /** The resource's view of a saga of this type. */
  view(doc: SagaDoc, saga: SagaView): Record<string, unknown>;
  /** The view's schema (documentation: the OpenAPI document). */
  viewSchema: z.ZodType;
}

/** Declares a saga's api with a typed request (the result is type-erased by parsing, without a cast); every version is of one type. */
export function defineSagaApi<Req>(api: {
  versions: readonly [AnySagaBinding, ...AnySagaBinding[]];
  resource: string;
  idName: string;
  what: string;
  request: z.ZodType<Req>;
  data(request: Req, sagaId: string): Record<string, unknown>;
  view(doc: SagaDoc, saga: SagaView): Record<string, unknown>;
  viewSchema: z.ZodType;
}): SagaApi {
  const type = api.versions[0].definition.type;
  const other = api.versions.find((b) => b.definition.type !== type);
  if (other) throw new Error(`api ${api.resource}: versions of ${type} and ${other.definition.type}`);
  return { ...api, type, data: (request, sagaId) => api.data(api.request.parse(request), sagaId) };
}

export interface ResourceApi {
  /** Path segment: `GET /customers/{customerId}`. */
  resource: string;
  idName: string;
  what: string;
  /** The view, or null when there is no such resource (404). */
  read(db: Firestore, id: string): Promise<Record<string, unknown> | null>;
  viewSchema: z.ZodType;
  /** True when `read` never returns null (every valid id has a view, so no 404). */
  everyIdFound?: boolean;
}
