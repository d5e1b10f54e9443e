/**
 * The api's service: places orders (starting the order-placement saga, idempotently per Idempotency-Key) and
 * serves read views. Placement = one transaction { idempotency record; saga document; inbox/outbox record with the
 * first command } → publish → mark sent.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Timestamp } from '@google-cloud/firestore';
import { deliver } from '../../shared/consumer';
import { runTransaction } from '../../shared/metrics';
import { orderPlacement, type OrderData } from '../../shared/saga/order-placement';
import { COLLECTIONS, docId } from '../../shared/store/collections';
import type { SagaDoc } from '../../shared/store/sagas';
import type { Context } from '../context';
import { publicPaymentStatus, type PaymentDoc } from '../payment/service';
import { ApiError, type PlaceOrderRequest } from './validation';

export const IDEMPOTENCY_RETENTION_MS = 24 * 3600 * 1000;
export const API = 'api';
const ALREADY_EXISTS = 6;

export interface PlacedOrder {
  orderId: string;
  status: 'PENDING';
  replayed: boolean;
}

export class OrderService {
  constructor(private readonly ctx: Context) {}

  async place(req: PlaceOrderRequest, idempotencyKey: string | null): Promise<PlacedOrder> {
    try {
      return await this.placeOnce(req, idempotencyKey);
    } catch (err) {
      // Two requests with the same new key raced and the other one created the record first: this one is a replay.
      if (idempotencyKey !== null && (err as { code?: number }).code === ALREADY_EXISTS) {
        return this.placeOnce(req, idempotencyKey);
      }
      throw err;
    }
  }

  private async placeOnce(req: PlaceOrderRequest, idempotencyKey: string | null): Promise<PlacedOrder> {
    const { ctx } = this;
    const orderId = randomUUID();
    const bodyHash = sha256(canonicalJson(req));
    const keyRef = idempotencyKey
      ? ctx.db.collection(COLLECTIONS.idempotencyKeys).doc(sha256(idempotencyKey))
      : null;
    const data: OrderData = {
      orderId,
      customerId: req.customerId,
      items: req.items,
      totalCents: req.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
      paymentToken: req.paymentToken,
    };
    const outcome = await runTransaction(ctx.db, async (tx) => {
      if (keyRef) {
        const existing = await tx.get(keyRef);
        if (existing.exists) {
          if (existing.get('bodyHash') !== bodyHash) {
            throw new ApiError(
              409,
              'IDEMPOTENCY_KEY_REUSED',
              'this Idempotency-Key was used with a different body',
            );
          }
          return { orderId: String(existing.get('orderId')), record: null };
        }
        const now = ctx.now();
        tx.create(keyRef, {
          orderId,
          bodyHash,
          createdAt: Timestamp.fromMillis(now),
          expireAt: Timestamp.fromMillis(now + IDEMPOTENCY_RETENTION_MS),
        });
      }
      const outgoing = ctx.orchestrator.startInTx(tx, orderPlacement, orderId, data);
      return { orderId, record: ctx.store.record(tx, API, orderId, outgoing) };
    });
    if (outcome.record) {
      ctx.faults.afterCommit(API);
      await deliver(ctx, outcome.record);
    }
    return { orderId: outcome.orderId, status: 'PENDING', replayed: outcome.record === null };
  }

  // Order ids are UUIDs, so docId() maps every stored one to itself; it keeps a reserved-looking id (`__x__`) an
  // ordinary unknown id instead of a Firestore INVALID_ARGUMENT (which would surface as a 503).
  async order(orderId: string): Promise<Record<string, unknown> | null> {
    const doc = await this.ctx.sagas.get(docId(orderId));
    return doc ? orderView(doc) : null;
  }

  async customer(customerId: string): Promise<Record<string, unknown> | null> {
    const snap = await this.ctx.db.collection(COLLECTIONS.customers).doc(docId(customerId)).get();
    if (!snap.exists) return null;
    return {
      customerId,
      creditLimitCents: Number(snap.get('creditLimitCents')),
      creditUsedCents: Number(snap.get('creditUsedCents')),
    };
  }

  async inventory(sku: string): Promise<Record<string, unknown> | null> {
    const snap = await this.ctx.db.collection(COLLECTIONS.products).doc(docId(sku)).get();
    return snap.exists ? { sku, available: Number(snap.get('available')) } : null;
  }

  async payment(orderId: string): Promise<Record<string, unknown>> {
    const snap = await this.ctx.db.collection(COLLECTIONS.payments).doc(docId(orderId)).get();
    const doc = snap.exists ? (snap.data() as PaymentDoc) : null;
    return { orderId, status: publicPaymentStatus(doc), amountCents: doc?.amountCents ?? 0 };
  }
}

export function orderView(doc: SagaDoc): Record<string, unknown> {
  const data = orderPlacement.dataSchema.parse(doc.data);
  const status = doc.status === 'SUCCEEDED' ? 'APPROVED' : doc.status === 'ABORTED' ? 'REJECTED' : 'PENDING';
  return {
    orderId: data.orderId,
    customerId: data.customerId,
    items: data.items,
    totalCents: data.totalCents,
    status,
    rejectionReason: status === 'REJECTED' ? doc.failureReason : null,
    createdAt: new Date(doc.createdAt).toISOString(),
    saga: {
      type: doc.type,
      status: doc.status,
      currentStep: doc.currentStep,
      /** The business reason compensation started (e.g. OUT_OF_STOCK, STEP_TIMEOUT), if any. */
      failureReason: doc.failureReason,
      /** Why the saga is FAILED (an operator is needed), if it is. */
      failedReason: doc.failedReason,
      steps: doc.steps.map((s) => ({ name: s.name, status: s.status, attempts: s.attempts })),
      history: doc.history,
    },
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so the same body in another key order or spacing hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
