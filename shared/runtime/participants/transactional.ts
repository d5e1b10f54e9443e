/**
 * A saga participant whose forward and compensating actions are Firestore-only effects (credit, inventory):
 * the inbox check, the effect and the reply commit in one transaction (one batched read of the inbox record and the
 * documents the action declares, then one commit). Reservations are keyed per order by the
 * participant itself, so even a command with a new message id cannot double-reserve or double-release.
 */
import type { DocumentReference, DocumentSnapshot, Transaction } from '@google-cloud/firestore';
import type { z } from 'zod';
import { processOnce, type ConsumerDeps } from '../consumer';
import { PermanentError } from '../errors';
import { replyTo, type CommandMessage, type OutgoingMessage, type ReplyMessage } from '../messages';
import type { ReplyOutcome, StepAction } from '../engine/types';
import { notIssuedBecause } from '../saga/issued';
import { sagaFromSnapshot, sagaRef } from '../store/sagas';
import type { Registry } from '../registry';
import { RUNTIME_TOPICS } from '../topology';

export interface StepOutcome {
  outcome: ReplyOutcome;
  reason?: string;
}

/** A participant's per-order record of what its forward action did (or the tombstone its compensation left). */
export interface ReservationRecord {
  status: 'RESERVED' | 'REJECTED' | 'RELEASED';
  reason?: string;
}

/** The reply a repeated forward command gets from the order's existing reservation record. */
export function outcomeOfReservation(r: ReservationRecord): StepOutcome {
  if (r.status === 'RESERVED') return { outcome: 'SUCCEEDED' };
  if (r.status === 'REJECTED') return { outcome: 'FAILED', reason: r.reason ?? 'REJECTED' };
  return { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };
}

export interface TxParticipant<P> {
  /** Consumer name (inbox namespace). */
  name: string;
  payloadSchema: z.ZodType<P>;
  /** The documents an action reads: fetched with the inbox check, in one round trip. */
  reads(action: StepAction, payload: P): DocumentReference[];
  /** Given the snapshots of `reads('forward', payload)` (same order): writes, and says the outcome. */
  forward(tx: Transaction, payload: P, docs: DocumentSnapshot[]): StepOutcome;
  compensate(tx: Transaction, payload: P, docs: DocumentSnapshot[]): StepOutcome;
}

export function parsePayload<P>(schema: z.ZodType<P>, cmd: CommandMessage): P {
  const r = schema.safeParse(cmd.payload);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new PermanentError(
      `command payload fails its schema at payload.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      'SCHEMA_VIOLATION',
    );
  }
  return r.data;
}

/** The reply message to the orchestrator, ordered by saga id. */
export function replyMessage(cmd: CommandMessage, outcome: StepOutcome): OutgoingMessage {
  const reply: ReplyMessage = replyTo(cmd, outcome.outcome, outcome.reason);
  const attributes: Record<string, string> = {
    type: reply.type,
    messageId: reply.id,
    sagaId: reply.sagaId,
    step: reply.step,
    action: reply.action,
    orderingKey: reply.sagaId,
  };
  return {
    topic: RUNTIME_TOPICS.sagaReplies,
    id: reply.id,
    data: { ...reply },
    attributes,
    orderingKey: reply.sagaId,
  };
}

/**
 * Refuses (PermanentError NOT_ISSUED_BY_SAGA: dead-lettered at once, never acted on) a command its saga did not
 * issue, given the snapshot of its saga document read in the participant's transaction (see saga/issued.ts).
 */
export function assertIssuedBySaga(
  registry: Registry,
  sagaSnap: DocumentSnapshot | undefined,
  cmd: CommandMessage,
): void {
  const why = notIssuedBecause(registry, sagaFromSnapshot(sagaSnap), cmd);
  if (why) throw new PermanentError(`command refused: ${why}`, 'NOT_ISSUED_BY_SAGA');
}

export async function runTxParticipant<P>(
  deps: ConsumerDeps,
  participant: TxParticipant<P>,
  cmd: CommandMessage,
): Promise<{ duplicate: boolean; outcome: StepOutcome | null }> {
  const payload = parsePayload(participant.payloadSchema, cmd);
  const reads = [sagaRef(deps.store.db, cmd.sagaId), ...participant.reads(cmd.action, payload)];
  const r = await processOnce(deps, participant.name, cmd.id, reads, (tx, [sagaSnap, ...docs]) => {
    assertIssuedBySaga(deps.registry, sagaSnap, cmd);
    const outcome =
      cmd.action === 'forward'
        ? participant.forward(tx, payload, docs)
        : participant.compensate(tx, payload, docs);
    return { outgoing: [replyMessage(cmd, outcome)], result: { ...outcome } };
  });
  if ('incomplete' in r) throw new Error('a transactional participant always completes');
  return { duplicate: r.duplicate, outcome: (r.record.result as StepOutcome | null) ?? null };
}
