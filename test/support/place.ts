/** Starting sagas in-process, as the api does (for integration tests that drive the runtime directly). */
import { ApiService } from '../../functions/api/service';
import type { Context } from '../../functions/context';
import { admissionFromConfig } from '../../shared/runtime/admission';
import { sagaView } from '../../shared/runtime/api/views';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { orderApi } from '../../shared/sagas/order-placement/api';

export async function placeOrder(
  ctx: Context,
  body: unknown,
  idempotencyKey: string | null = null,
): Promise<{ orderId: string; replayed: boolean }> {
  const request = orderApi.request.parse(body);
  const started = await new ApiService(ctx, admissionFromConfig(ctx)).start(
    orderApi,
    request,
    idempotencyKey,
  );
  return { orderId: started.sagaId, replayed: started.replayed };
}

export function orderView(doc: SagaDoc): Record<string, unknown> {
  return orderApi.view(doc, sagaView(doc));
}

/** One api service instance (one admission controller), placing orders like POST /orders. */
export function orderPlacer(ctx: Context): {
  place(body: unknown, idempotencyKey: string | null): Promise<{ orderId: string; replayed: boolean }>;
} {
  const service = new ApiService(ctx, admissionFromConfig(ctx));
  return {
    place: async (body, key) => {
      const started = await service.start(orderApi, orderApi.request.parse(body), key);
      return { orderId: started.sagaId, replayed: started.replayed };
    },
  };
}
