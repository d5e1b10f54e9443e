/** Saga documents: sagas/{sagaId} = engine state + the saga's business data + timestamps. */
import type {
  DocumentReference,
  DocumentSnapshot,
  Firestore,
  Query,
  Transaction,
} from '@google-cloud/firestore';
import type { SagaState, SagaStatus } from '../saga/types';
import { COLLECTIONS } from './collections';

export interface SagaDoc extends SagaState {
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export class SagaRepository {
  constructor(readonly db: Firestore) {}

  ref(sagaId: string): DocumentReference {
    return this.db.collection(COLLECTIONS.sagas).doc(sagaId);
  }

  /** The saga in a snapshot of `ref(sagaId)` (read with a consumer's inbox check), or null. */
  fromSnapshot(snap: DocumentSnapshot | undefined): SagaDoc | null {
    return snap?.exists ? (snap.data() as SagaDoc) : null;
  }

  async get(sagaId: string): Promise<SagaDoc | null> {
    const snap = await this.ref(sagaId).get();
    return snap.exists ? (snap.data() as SagaDoc) : null;
  }

  create(tx: Transaction, doc: SagaDoc): void {
    tx.create(this.ref(doc.sagaId), doc);
  }

  update(tx: Transaction, doc: SagaDoc): void {
    tx.set(this.ref(doc.sagaId), doc);
  }

  /** Sagas whose awaited reply is overdue (single-field index on deadlineAt), oldest deadline first. */
  async overdue(now: number, limit: number): Promise<SagaDoc[]> {
    const snap = await this.db
      .collection(COLLECTIONS.sagas)
      .where('deadlineAt', '<=', now)
      .orderBy('deadlineAt')
      .limit(limit)
      .get();
    return snap.docs.map((d) => d.data() as SagaDoc);
  }

  /** Newest first; with a status, uses the (status, createdAt desc) composite index. */
  async list(opts: { status?: SagaStatus; limit: number }): Promise<SagaDoc[]> {
    let q: Query = this.db.collection(COLLECTIONS.sagas);
    if (opts.status) q = q.where('status', '==', opts.status);
    const snap = await q.orderBy('createdAt', 'desc').limit(opts.limit).get();
    return snap.docs.map((d) => d.data() as SagaDoc);
  }
}
