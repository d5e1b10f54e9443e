/**
 * Payment participant: an external effect participant (shared/runtime/participants/external-effect.ts) whose effect
 * is a charge at the payment gateway, keyed by orderId, reversed by a refund (or a void when nothing was charged).
 * Its records are payments/{orderId} {orderId, amountCents, status, before?}, in payment's state names.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { ConsumerDeps } from '../../shared/runtime/consumer';
import type { CommandMessage } from '../../shared/runtime/messages';
import {
  paymentPayloadSchema,
  type PaymentPayload,
  type PaymentState,
} from '../../shared/participants/payment';
import {
  firestoreEffectPersistence,
  runExternalEffect,
  type EffectPersistence,
  type EffectState,
  type ExternalEffectParticipant,
  type RecordLayout,
} from '../../shared/runtime/participants/external-effect';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { PaymentGateway } from './gateway';

export const PAYMENT = 'payment';

const PAYMENT_STATES: Record<EffectState, PaymentState> = {
  INTENT: 'CHARGING',
  DONE: 'CHARGED',
  REJECTED: 'DECLINED',
  REVERSING: 'REFUNDING',
  REVERSED: 'REFUNDED',
  CANCELLED: 'CANCELLED',
};

/** payments/{orderId} as stored before the kind existed: `status`, `before`, no stored decline reason. */
export const PAYMENT_LAYOUT: RecordLayout = {
  stateField: 'status',
  beforeField: 'before',
  reasonField: null,
  rejectedReason: 'PAYMENT_DECLINED',
  states: PAYMENT_STATES,
};

export function paymentParticipant(gateway: PaymentGateway): ExternalEffectParticipant<PaymentPayload> {
  return {
    name: PAYMENT,
    payloadSchema: paymentPayloadSchema,
    key: (p) => p.orderId,
    collection: COLLECTIONS.payments,
    fields: (p) => ({ orderId: p.orderId, amountCents: p.amountCents }),
    layout: PAYMENT_LAYOUT,
    async perform(p) {
      const r = await gateway.charge({
        orderId: p.orderId,
        amountCents: p.amountCents,
        token: p.paymentToken,
      });
      switch (r.status) {
        case 'CHARGED':
          return { status: 'DONE' };
        case 'DECLINED':
          return { status: 'REJECTED', reason: r.reason };
        case 'VOIDED':
          return { status: 'VOIDED' };
      }
    },
    async reverse(orderId) {
      const { refunded } = await gateway.refund(orderId);
      return { reversed: refunded };
    },
  };
}

export class PaymentService {
  private readonly participant: ExternalEffectParticipant<PaymentPayload>;
  private readonly persistence: EffectPersistence<PaymentPayload>;

  constructor(db: Firestore, deps: ConsumerDeps, gateway: PaymentGateway) {
    this.participant = paymentParticipant(gateway);
    this.persistence = firestoreEffectPersistence(deps, this.participant, db);
  }

  handle(cmd: CommandMessage): Promise<{ duplicate: boolean }> {
    return runExternalEffect(this.participant, this.persistence, cmd);
  }
}
