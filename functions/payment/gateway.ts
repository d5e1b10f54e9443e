/**
 * The payment gateway interface, and the simulated gateway of the contract's test tokens.
 *
 * The simulated gateway keeps its own ledger (gateway-ledger/{orderId}, standing in for the gateway's side), is
 * idempotent per order like a real gateway with idempotency keys, and supports void: a refund that reaches the
 * gateway before any successful charge voids the order, so a later charge attempt is refused (no money moves).
 *
 *   tok_chargeDeclined  declined (business failure)
 *   tok_flaky           the first 2 charge attempts of an order fail transiently, the 3rd succeeds
 *   tok_unavailable     every charge attempt fails transiently
 *   anything else       charge succeeds
 */
import type { Firestore } from '@google-cloud/firestore';
import { TransientError } from '../../shared/runtime/errors';
import { runTransaction } from '../../shared/runtime/metrics';
import { COLLECTIONS } from '../../shared/runtime/store/collections';

export type ChargeResult =
  { status: 'CHARGED' } | { status: 'DECLINED'; reason: string } | { status: 'VOIDED' };

export interface PaymentGateway {
  /** Idempotent per orderId. Throws TransientError when the gateway is unavailable. */
  charge(req: { orderId: string; amountCents: number; token: string }): Promise<ChargeResult>;
  /** Idempotent per orderId: refunds a charge, or voids the order when nothing was charged. */
  refund(orderId: string): Promise<{ refunded: boolean }>;
}

type LedgerState = 'ATTEMPTING' | 'CHARGED' | 'DECLINED' | 'VOIDED' | 'REFUNDED';

interface LedgerEntry {
  orderId: string;
  amountCents: number;
  token: string;
  state: LedgerState;
  attempts: number;
}

export const FLAKY_FAILURES = 2;

export class SimulatedGateway implements PaymentGateway {
  constructor(private readonly db: Firestore) {}

  private ref(orderId: string) {
    return this.db.collection(COLLECTIONS.gatewayLedger).doc(orderId);
  }

  async charge(req: { orderId: string; amountCents: number; token: string }): Promise<ChargeResult> {
    const ref = this.ref(req.orderId);
    const outcome = await runTransaction(this.db, async (tx) => {
      const snap = await tx.get(ref);
      const entry = snap.data() as LedgerEntry | undefined;
      if (entry && entry.state !== 'ATTEMPTING') return settled(entry.state);
      const attempts = (entry?.attempts ?? 0) + 1;
      const next: LedgerEntry = {
        orderId: req.orderId,
        amountCents: req.amountCents,
        token: req.token,
        attempts,
        state: decideCharge(req.token, attempts),
      };
      tx.set(ref, next);
      return next.state === 'ATTEMPTING' ? 'UNAVAILABLE' : settled(next.state);
    });
    if (outcome === 'UNAVAILABLE') throw new TransientError(`gateway unavailable for ${req.orderId}`);
    return outcome;
  }

  async refund(orderId: string): Promise<{ refunded: boolean }> {
    const ref = this.ref(orderId);
    return runTransaction(this.db, async (tx) => {
      const snap = await tx.get(ref);
      const entry = snap.data() as LedgerEntry | undefined;
      if (entry?.state === 'CHARGED' || entry?.state === 'REFUNDED') {
        if (entry.state === 'CHARGED') tx.update(ref, { state: 'REFUNDED' });
        return { refunded: true };
      }
      if (entry?.state !== 'DECLINED') {
        tx.set(ref, {
          orderId,
          amountCents: entry?.amountCents ?? 0,
          token: entry?.token ?? '',
          attempts: entry?.attempts ?? 0,
          state: 'VOIDED',
        });
      }
      return { refunded: false };
    });
  }
}

function decideCharge(token: string, attempts: number): LedgerState {
  if (token === 'tok_unavailable') return 'ATTEMPTING';
  if (token === 'tok_flaky' && attempts <= FLAKY_FAILURES) return 'ATTEMPTING';
  if (token === 'tok_chargeDeclined') return 'DECLINED';
  return 'CHARGED';
}

function settled(state: Exclude<LedgerState, 'ATTEMPTING'>): ChargeResult {
  switch (state) {
    case 'CHARGED':
    case 'REFUNDED':
      return { status: 'CHARGED' };
    case 'DECLINED':
      return { status: 'DECLINED', reason: 'PAYMENT_DECLINED' };
    case 'VOIDED':
      return { status: 'VOIDED' };
  }
}
