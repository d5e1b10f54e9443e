/**
 * Payment participant. The gateway is external I/O, so it is never called inside a transaction:
 *
 *   charge:  tx1 { inbox check; payments/{orderId} NONE → CHARGING }  →  gateway.charge (idempotent per order)
 *            → tx2 { CHARGING → CHARGED | DECLINED; inbox; reply }
 *   refund:  tx1 { inbox check; NONE → CANCELLED tombstone + reply | CHARGING/CHARGED → REFUNDING }
 *            → gateway.refund (refunds, or voids so an in-flight charge is refused) → tx2 { REFUNDED | CANCELLED; reply }
 *
 * A crash anywhere is recovered by redelivery: every stage is idempotent. A gateway outage is a TransientError
 * (HTTP 500, Pub/Sub retries, eventually dead-letters and the step times out).
 */
import type { Firestore, Transaction } from '@google-cloud/firestore';
import { processOnce, type ConsumerDeps } from '../../shared/consumer';
import { paymentPayloadSchema, type CommandMessage, type PaymentPayload } from '../../shared/messages';
import { parsePayload, replyMessage, type StepOutcome } from '../../shared/participant';
import { COLLECTIONS } from '../../shared/store/collections';
import type { PaymentGateway } from './gateway';

export const PAYMENT = 'payment';

/** Stored payment states; CHARGING and REFUNDING are in flight (shown as NONE / CHARGED by the api). */
export type PaymentState = 'CHARGING' | 'CHARGED' | 'DECLINED' | 'REFUNDING' | 'REFUNDED' | 'CANCELLED';

export interface PaymentDoc {
  orderId: string;
  amountCents: number;
  status: PaymentState;
  /** For REFUNDING: the state before the refund started. */
  before?: PaymentState;
}

/** What GET /payments/{orderId} shows for a stored state. */
export function publicPaymentStatus(
  doc: PaymentDoc | null,
): 'NONE' | 'CHARGED' | 'REFUNDED' | 'DECLINED' | 'CANCELLED' {
  if (!doc) return 'NONE';
  switch (doc.status) {
    case 'CHARGING':
      return 'NONE';
    case 'REFUNDING':
      return doc.before === 'CHARGED' ? 'CHARGED' : 'NONE';
    default:
      return doc.status;
  }
}

export class PaymentService {
  constructor(
    private readonly db: Firestore,
    private readonly deps: ConsumerDeps,
    private readonly gateway: PaymentGateway,
  ) {}

  private ref(orderId: string) {
    return this.db.collection(COLLECTIONS.payments).doc(orderId);
  }

  async handle(cmd: CommandMessage): Promise<{ duplicate: boolean }> {
    const p = parsePayload(paymentPayloadSchema, cmd);
    return cmd.action === 'forward' ? this.charge(cmd, p) : this.refund(cmd, p);
  }

  private async charge(cmd: CommandMessage, p: PaymentPayload): Promise<{ duplicate: boolean }> {
    const first = await this.stage(cmd, p.orderId, async (tx, doc) => {
      if (!doc) {
        tx.create(this.ref(p.orderId), {
          orderId: p.orderId,
          amountCents: p.amountCents,
          status: 'CHARGING',
        });
        return null;
      }
      switch (doc.status) {
        case 'CHARGING':
          return null;
        case 'CHARGED':
          return { outcome: 'SUCCEEDED' };
        case 'DECLINED':
          return { outcome: 'FAILED', reason: 'PAYMENT_DECLINED' };
        default:
          return { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };
      }
    });
    if (first.done) return { duplicate: first.duplicate };

    const result = await this.gateway.charge({
      orderId: p.orderId,
      amountCents: p.amountCents,
      token: p.paymentToken,
    });

    const second = await this.stage(cmd, p.orderId, async (tx, doc) => {
      if (doc?.status !== 'CHARGING') {
        // A refund got there while we were at the gateway: it owns reversing the money (refund or void).
        return { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };
      }
      if (result.status === 'CHARGED') {
        tx.update(this.ref(p.orderId), { status: 'CHARGED' });
        return { outcome: 'SUCCEEDED' };
      }
      if (result.status === 'DECLINED') {
        tx.update(this.ref(p.orderId), { status: 'DECLINED' });
        return { outcome: 'FAILED', reason: result.reason };
      }
      return { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };
    });
    return { duplicate: second.done && second.duplicate };
  }

  private async refund(cmd: CommandMessage, p: PaymentPayload): Promise<{ duplicate: boolean }> {
    const first = await this.stage(cmd, p.orderId, async (tx, doc) => {
      if (!doc) {
        // The refund overtook the charge: tombstone, so the late charge is refused without touching the gateway.
        tx.create(this.ref(p.orderId), {
          orderId: p.orderId,
          amountCents: p.amountCents,
          status: 'CANCELLED',
        });
        return { outcome: 'SUCCEEDED' };
      }
      switch (doc.status) {
        case 'CHARGING':
        case 'CHARGED':
          tx.update(this.ref(p.orderId), { status: 'REFUNDING', before: doc.status });
          return null;
        case 'REFUNDING':
          return null;
        default:
          return { outcome: 'SUCCEEDED' };
      }
    });
    if (first.done) return { duplicate: first.duplicate };

    const { refunded } = await this.gateway.refund(p.orderId);

    const second = await this.stage(cmd, p.orderId, async (tx, doc) => {
      if (doc?.status === 'REFUNDING') {
        tx.update(this.ref(p.orderId), { status: refunded ? 'REFUNDED' : 'CANCELLED', before: null });
      }
      return { outcome: 'SUCCEEDED' };
    });
    return { duplicate: second.done && second.duplicate };
  }

  /**
   * One transaction stage: reads the payment and lets `step` write. When it returns an outcome, the inbox record and
   * the reply commit in the same transaction (the message is done); `null` commits the state change only and the
   * caller continues outside the transaction.
   */
  private async stage(
    cmd: CommandMessage,
    orderId: string,
    step: (tx: Transaction, doc: PaymentDoc | null) => Promise<StepOutcome | null>,
  ): Promise<{ done: true; duplicate: boolean } | { done: false }> {
    const r = await processOnce(this.deps, PAYMENT, cmd.id, [this.ref(orderId)], async (tx, [snap]) => {
      const outcome = await step(tx, (snap!.data() as PaymentDoc | undefined) ?? null);
      if (outcome === null) return { incomplete: true };
      return { outgoing: [replyMessage(cmd, outcome)], result: { ...outcome } };
    });
    return 'incomplete' in r ? { done: false } : { done: true, duplicate: r.duplicate };
  }
}
