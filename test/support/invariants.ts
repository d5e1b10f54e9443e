/**
 * The money-and-stock invariants every fault test checks, read straight from the stack's Firestore:
 *   - every customer: creditUsedCents = sum of totals of its APPROVED orders
 *   - every sku: seeded stock - available = sum of quantities in APPROVED orders
 *   - payments: CHARGED (participant) and CHARGED at the gateway exactly for APPROVED orders
 *   - every order terminal (APPROVED / REJECTED), or FAILED only where allowed
 */
import { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS, docId } from '../../shared/store/collections';
import type { SagaDoc } from '../../shared/store/sagas';
import type { OrderData } from '../../shared/saga/order-placement';

export interface Seed {
  customers: { customerId: string; creditLimitCents: number }[];
  products: { sku: string; available: number }[];
}

export interface InvariantReport {
  orders: number;
  approved: number;
  rejected: number;
  failed: number;
  pending: number;
  violations: string[];
}

export async function checkInvariants(projectId: string, seed: Seed): Promise<InvariantReport> {
  const db = new Firestore({ projectId });
  try {
    const sagas = (await db.collection(COLLECTIONS.sagas).get()).docs.map((d) => d.data() as SagaDoc);
    const approved = sagas.filter((s) => s.status === 'SUCCEEDED');
    const violations: string[] = [];
    const data = (s: SagaDoc) => s.data as unknown as OrderData;

    for (const c of seed.customers) {
      const snap = await db.collection(COLLECTIONS.customers).doc(docId(c.customerId)).get();
      const expected = approved
        .filter((s) => data(s).customerId === c.customerId)
        .reduce((sum, s) => sum + data(s).totalCents, 0);
      const used = Number(snap.get('creditUsedCents'));
      if (used !== expected)
        violations.push(`customer ${c.customerId}: creditUsedCents ${used} ≠ approved total ${expected}`);
    }
    for (const p of seed.products) {
      const snap = await db.collection(COLLECTIONS.products).doc(docId(p.sku)).get();
      const taken = approved
        .flatMap((s) => data(s).items)
        .filter((i) => i.sku === p.sku)
        .reduce((sum, i) => sum + i.quantity, 0);
      const available = Number(snap.get('available'));
      if (p.available - available !== taken)
        violations.push(`sku ${p.sku}: taken ${p.available - available} ≠ approved quantity ${taken}`);
    }
    const approvedIds = new Set(approved.map((s) => s.sagaId));
    const payments = (await db.collection(COLLECTIONS.payments).get()).docs;
    for (const p of payments) {
      const charged = p.get('status') === 'CHARGED';
      if (charged !== approvedIds.has(p.id))
        violations.push(
          `payment ${p.id}: status ${String(p.get('status'))} but order ${approvedIds.has(p.id) ? 'APPROVED' : 'not approved'}`,
        );
    }
    const ledger = (await db.collection(COLLECTIONS.gatewayLedger).get()).docs;
    for (const l of ledger) {
      const charged = l.get('state') === 'CHARGED';
      if (charged !== approvedIds.has(l.id))
        violations.push(
          `gateway ${l.id}: ${String(l.get('state'))} but order ${approvedIds.has(l.id) ? 'APPROVED' : 'not approved'}`,
        );
    }
    for (const s of approved) {
      if (!payments.some((p) => p.id === s.sagaId && p.get('status') === 'CHARGED'))
        violations.push(`approved order ${s.sagaId} has no CHARGED payment`);
    }
    return {
      orders: sagas.length,
      approved: approved.length,
      rejected: sagas.filter((s) => s.status === 'ABORTED').length,
      failed: sagas.filter((s) => s.status === 'FAILED').length,
      pending: sagas.filter((s) => !['SUCCEEDED', 'ABORTED', 'FAILED'].includes(s.status)).length,
      violations,
    };
  } finally {
    await db.terminate();
  }
}

/** Polls until no saga is pending (or timeout); returns the final report. */
export async function settle(projectId: string, seed: Seed, timeoutMs = 120_000): Promise<InvariantReport> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await checkInvariants(projectId, seed);
    if (r.pending === 0 || Date.now() > until) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}
