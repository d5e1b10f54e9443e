/** Saga documents: sagas/{sagaId} = engine state + the saga's business data + timestamps. */
import {
  FieldPath,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Query,
  type Transaction,
} from '@google-cloud/firestore';
import { countReads } from '../metrics';
import type { SagaState, SagaStatus } from '../engine/types';
import { COLLECTIONS } from './collections';
import { decodeCursor, encodeCursor, pageOf, type Page } from './cursor';

const SAGA_LIST = 'sagas';

export interface SagaDoc extends SagaState {
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /**
   * The saga's trace: its root span (the api's request) as a W3C `traceparent`. Absent when tracing was off at
   * its start (and on documents written before tracing existed).
   */
  trace?: string;
}

/** sagas/{sagaId}: for readers outside the repository (a participant checking that its saga issued a command). */
export function sagaRef(db: Firestore, sagaId: string): DocumentReference {
  return db.collection(COLLECTIONS.sagas).doc(sagaId);
}

export function sagaFromSnapshot(snap: DocumentSnapshot | undefined): SagaDoc | null {
  return snap?.exists ? (snap.data() as SagaDoc) : null;
}

export class SagaRepository {
  constructor(readonly db: Firestore) {}

  ref(sagaId: string): DocumentReference {
    return sagaRef(this.db, sagaId);
  }

  /** The saga in a snapshot of `ref(sagaId)` (read with a consumer's inbox check), or null. */
  fromSnapshot(snap: DocumentSnapshot | undefined): SagaDoc | null {
    return sagaFromSnapshot(snap);
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

  /**
   * Sagas whose awaited reply is overdue (single-field index on deadlineAt), oldest deadline first, one page after
   * `after` (the last saga of the previous page): a caller pages past items it could not handle.
   */
  async overdue(now: number, limit: number, after?: SagaDoc): Promise<SagaDoc[]> {
    let q = this.db
      .collection(COLLECTIONS.sagas)
      .where('deadlineAt', '<=', now)
      .orderBy('deadlineAt')
      .orderBy(FieldPath.documentId());
    if (after) q = q.startAfter(after.deadlineAt, this.ref(after.sagaId).id);
    const snap = await q.limit(limit).get();
    countReads(Math.max(1, snap.size));
    return snap.docs.map((d) => d.data() as SagaDoc);
  }

  /** How many sagas are running (STARTED or COMPENSATING): one aggregation over the status index. */
  async countRunning(): Promise<number> {
    const snap = await this.db
      .collection(COLLECTIONS.sagas)
      .where('status', 'in', ['STARTED', 'COMPENSATING'])
      .count()
      .get();
    const n = snap.data().count;
    countReads(Math.max(1, Math.ceil(n / 1000)));
    return n;
  }

  /**
   * The saga types in the collection, ascending: one query per type, each after the previous one (a skip scan over
   * the single-field index on type), never a scan of the sagas.
   */
  async types(): Promise<string[]> {
    const col = this.db.collection(COLLECTIONS.sagas);
    const out: string[] = [];
    for (;;) {
      let q = col.orderBy('type');
      if (out.length > 0) q = q.startAfter(out[out.length - 1]);
      const snap = await q.select('type').limit(1).get();
      const type: unknown = snap.docs[0]?.get('type');
      if (typeof type !== 'string') return out;
      out.push(type);
    }
  }

  /**
   * The definition versions recorded by sagas of `type`, ascending: one query per version (skip scan over the
   * (type, definitionVersion) index). Documents without one (written before versions: version 1) are not listed.
   */
  async definitionVersions(type: string): Promise<number[]> {
    const col = this.db.collection(COLLECTIONS.sagas);
    const out: number[] = [];
    for (;;) {
      let q = col.where('type', '==', type);
      if (out.length > 0) q = q.where('definitionVersion', '>', out[out.length - 1]);
      const snap = await q.orderBy('definitionVersion').select('definitionVersion').limit(1).get();
      const v: unknown = snap.docs[0]?.get('definitionVersion');
      if (typeof v !== 'number') return out;
      out.push(v);
    }
  }

  /**
   * How many sagas of `type` (and of one definition version, when given) are in each status: one aggregation per
   * status, equality filters only.
   */
  async countByStatus(type: string, definitionVersion?: number): Promise<Record<SagaStatus, number>> {
    const counts: Record<SagaStatus, number> = {
      STARTED: 0,
      COMPENSATING: 0,
      SUCCEEDED: 0,
      ABORTED: 0,
      FAILED: 0,
    };
    await Promise.all(
      (Object.keys(counts) as SagaStatus[]).map(async (status) => {
        let q = this.db.collection(COLLECTIONS.sagas).where('type', '==', type).where('status', '==', status);
        if (definitionVersion !== undefined) q = q.where('definitionVersion', '==', definitionVersion);
        counts[status] = (await q.count().get()).data().count;
      }),
    );
    countReads(Object.keys(counts).length);
    return counts;
  }

  /**
   * Newest first, `limit` per page; `after` is the `next` cursor of the previous page. Ordered by (createdAt,
   * document id); with a type and/or a status, served by the (type, createdAt desc), (status, createdAt desc) and
   * (type, status, createdAt desc) composite indexes. A definition version filters one type's sagas (the type is
   * required with it; documents written before versions have no definitionVersion and match no version).
   */
  async list(opts: {
    status?: SagaStatus;
    type?: string;
    version?: number;
    limit: number;
    after?: string | null;
  }): Promise<Page<SagaDoc>> {
    let q: Query = this.db.collection(COLLECTIONS.sagas);
    if (opts.type) q = q.where('type', '==', opts.type);
    if (opts.version !== undefined) {
      if (!opts.type) throw new Error('a version filter needs a type');
      q = q.where('definitionVersion', '==', opts.version);
    }
    if (opts.status) q = q.where('status', '==', opts.status);
    q = q.orderBy('createdAt', 'desc').orderBy(FieldPath.documentId(), 'desc');
    if (opts.after) {
      const p = decodeCursor(SAGA_LIST, opts.after);
      q = q.startAfter(p.at, p.id);
    }
    const snap = await q.limit(opts.limit + 1).get();
    const fetched = snap.docs.map((d) => {
      const value = d.data() as SagaDoc;
      return { value, cursor: encodeCursor(SAGA_LIST, { at: value.createdAt, id: d.id }) };
    });
    return pageOf(fetched, opts.limit);
  }
}
