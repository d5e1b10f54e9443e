/**
 * The console's reads and its one action, through the same runtime views the api and the CLI use: sagaView for the
 * saga, each saga api's `view` for its resource, the dead-letter store, and the runtime's redrive.
 */
import { PubSub } from '@google-cloud/pubsub';
import { SAGA_APIS } from '../../shared/registry';
import type { SagaApi } from '../../shared/runtime/api/declarations';
import { sagaView, type SagaView } from '../../shared/runtime/api/views';
import type { SagaStatus } from '../../shared/runtime/engine/types';
import { redrive, type RedriveResult } from '../../shared/runtime/redrive';
import { docId } from '../../shared/runtime/store/collections';
import type { Page } from '../../shared/runtime/store/cursor';
import type { DeadLetter } from '../../shared/runtime/store/dead-letters';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { sagaTrace, type TraceView } from '../../shared/runtime/telemetry/trace-view';
import type { Context } from '../context';

export interface SagaFilter {
  type?: string;
  status?: SagaStatus;
  version?: number;
  limit: number;
  after?: string;
}

/** A saga as the console shows it: the generic view, and its resource's view when its type has an api. */
export interface SagaRow {
  saga: SagaView;
  api: SagaApi | null;
  resource: Record<string, unknown> | null;
}

export interface SagaDetail extends SagaRow {
  /** The saga's business data (its input: user data, shown escaped). */
  data: Record<string, unknown>;
  deadLetters: DeadLetter[];
  /** Its trace (null when tracing was off at its start): locally with its spans, in the cloud a link. */
  trace: TraceView | null;
}

/** Dead letters shown with one saga (more are on the dead-letters page). */
export const SAGA_DEAD_LETTERS = 50;

export class ConsoleService {
  constructor(
    private readonly ctx: Context,
    private readonly pubsub: () => PubSub,
  ) {}

  private row(doc: SagaDoc): SagaRow {
    const saga = sagaView(doc);
    const api = SAGA_APIS.find((a) => a.type === doc.type) ?? null;
    let resource: Record<string, unknown> | null = null;
    try {
      resource = api ? api.view(doc, saga) : null;
    } catch (err) {
      // Data its type's view cannot read (its schema changed, a hand-edited document): the saga view still shows it.
      this.ctx.log.warn('console: no resource view', { sagaId: doc.sagaId, error: err });
    }
    return { saga, api, resource };
  }

  async list(filter: SagaFilter): Promise<{ rows: SagaRow[]; next: string | null }> {
    const page = await this.ctx.sagas.list({
      limit: filter.limit,
      after: filter.after ?? null,
      ...(filter.type ? { type: filter.type } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.version !== undefined ? { version: filter.version } : {}),
    });
    return { rows: page.items.map((i) => this.row(i.value)), next: page.next };
  }

  /** Null for an unknown id (docId: a reserved-looking id is an ordinary unknown one, as in the api). */
  async saga(sagaId: string): Promise<SagaDetail | null> {
    const doc = await this.ctx.sagas.get(docId(sagaId));
    if (!doc) return null;
    const deadLetters = await this.ctx.deadLetters.ofSaga(sagaId, SAGA_DEAD_LETTERS);
    return { ...this.row(doc), data: doc.data, deadLetters, trace: sagaTrace(this.ctx.config, doc.trace) };
  }

  /** FAILED sagas, newest first, each with its dead letters (the compensation to redrive is among them). */
  async failed(
    limit: number,
    after?: string,
  ): Promise<{ rows: { row: SagaRow; deadLetters: DeadLetter[] }[]; next: string | null }> {
    const page = await this.list({ status: 'FAILED', limit, ...(after ? { after } : {}) });
    const rows = await Promise.all(
      page.rows.map(async (row) => ({ row, deadLetters: await this.deadLettersOf(row.saga.sagaId) })),
    );
    return { rows, next: page.next };
  }

  deadLetters(limit: number, after?: string): Promise<Page<DeadLetter>> {
    return this.ctx.deadLetters.list(limit, after ?? null);
  }

  deadLettersOf(sagaId: string): Promise<DeadLetter[]> {
    return this.ctx.deadLetters.ofSaga(sagaId, SAGA_DEAD_LETTERS);
  }

  /** The CLI's redrive (shared/runtime/redrive.ts) with this deployment's source topics. */
  redrive(what: { all: true } | { id: string; force: boolean }): Promise<RedriveResult[]> {
    return redrive(this.ctx.deadLetters, this.pubsub(), what, {
      sourceTopics: this.ctx.topology.sourceTopics,
    });
  }
}
