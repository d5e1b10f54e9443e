/**
 * The api's service: starts sagas of any declared type (idempotently per Idempotency-Key, behind admission
 * control) and serves their views, the generic saga view, and the participants' read views.
 */
import { SagaStarter, type Started } from '../../shared/runtime/api/starter';
import type { ResourceApi, SagaApi } from '../../shared/runtime/api/declarations';
import { sagaView, type SagaView } from '../../shared/runtime/api/views';
import type { Admission } from '../../shared/runtime/admission';
import { docId } from '../../shared/runtime/store/collections';
import type { Context } from '../context';

export class ApiService {
  private readonly starter: SagaStarter;

  constructor(
    private readonly ctx: Context,
    admission: Admission,
  ) {
    this.starter = new SagaStarter(ctx, admission);
  }

  start(api: SagaApi, request: unknown, idempotencyKey: string | null): Promise<Started> {
    return this.starter.start({
      type: api.type,
      request,
      data: (sagaId) => api.data(request, sagaId),
      idempotencyKey,
    });
  }

  /**
   * The saga of any type. Saga ids are UUIDs, so docId() maps every stored one to itself; it keeps a
   * reserved-looking id (`__x__`) an ordinary unknown id instead of a Firestore INVALID_ARGUMENT (a 503).
   */
  async saga(sagaId: string): Promise<SagaView | null> {
    const doc = await this.ctx.sagas.get(docId(sagaId));
    return doc ? sagaView(doc) : null;
  }

  /** A saga as its own resource shows it; null (404) for an unknown id or a saga of another type. */
  async view(api: SagaApi, sagaId: string): Promise<Record<string, unknown> | null> {
    const doc = await this.ctx.sagas.get(docId(sagaId));
    if (!doc || doc.type !== api.type) return null;
    return api.view(doc, sagaView(doc));
  }

  resource(api: ResourceApi, id: string): Promise<Record<string, unknown> | null> {
    return api.read(this.ctx.db, id);
  }
}
