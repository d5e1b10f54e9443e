/**
 * The consumer shape every Pub/Sub consumer (and the api) follows:
 *   one transaction { inbox check by application message id; business effect; record outgoing messages }
 *   → commit → publish → mark sent.
 * The documents the business effect reads are declared up front and fetched together with the inbox record, in
 * one round trip: a consumer's transaction is one batched read and one commit.
 * A duplicate changes nothing; its recorded messages are published again only if they were never marked sent.
 */
import type { DocumentReference, DocumentSnapshot, Transaction } from '@google-cloud/firestore';
import type { Faults } from './faults';
import type { OutgoingMessage } from './messages';
import { runTransaction, timed } from './metrics';
import type { Publisher } from './pubsub/publisher';
import type { Registry } from './registry';
import type { InboxRecord, MessageStore } from './store/inbox';
import { traceAttributes, withTraceContext } from './telemetry/tracing';

export interface ConsumerDeps {
  store: MessageStore;
  publisher: Publisher;
  faults: Faults;
  /** The sagas and participants of this deployment. */
  registry: Registry;
}

/**
 * What a consumer's transaction produced: the messages to send, or `incomplete` (commit the writes, no inbox record:
 * the message is not done yet). `claimed`: this transaction took the command (committed its intent before an
 * external call) — recorded once per message, it starts the step's clock (see MessageStore.claim).
 */
export type WorkResult =
  { outgoing: OutgoingMessage[]; result?: Record<string, unknown> } | { incomplete: true; claimed?: boolean };

export type ProcessResult = { duplicate: boolean; record: InboxRecord } | { incomplete: true };

/**
 * `work` gets the snapshots of `reads` (same order) and only writes: Firestore wants every read of a transaction
 * before its first write, and a read inside `work` would cost another round trip.
 */
export async function processOnce(
  deps: ConsumerDeps,
  consumer: string,
  messageId: string,
  reads: readonly DocumentReference[],
  work: (tx: Transaction, docs: DocumentSnapshot[]) => WorkResult | Promise<WorkResult>,
): Promise<ProcessResult> {
  // The outgoing messages carry the handler's span (not the transaction's): recorded with them in the outbox.
  const stamp = traceAttributes();
  const outcome = await runTransaction(deps.store.db, async (tx): Promise<ProcessResult> => {
    const { existing, docs } = await deps.store.readWith(tx, consumer, messageId, reads);
    if (existing) return { duplicate: true, record: existing };
    const done = await work(tx, docs);
    if ('incomplete' in done) {
      if (done.claimed) deps.store.claim(tx, consumer, messageId);
      return { incomplete: true };
    }
    return {
      duplicate: false,
      record: deps.store.record(
        tx,
        consumer,
        messageId,
        withTraceContext(done.outgoing, stamp),
        done.result ?? null,
      ),
    };
  });
  if ('incomplete' in outcome) return outcome;
  if (!outcome.duplicate) {
    deps.faults.afterCommit(consumer);
    deps.faults.beforePublish(consumer);
  }
  await deliver(deps, outcome.record);
  return outcome;
}

/** Publishes a record's outbox if it is still pending, then marks it sent. Safe to call more than once. */
export async function deliver(
  deps: Pick<ConsumerDeps, 'store' | 'publisher'>,
  record: InboxRecord,
): Promise<void> {
  if (record.outboxPendingSince === null || record.outgoing.length === 0) return;
  await timed('publishMs', () => deps.publisher.publish(record.outgoing));
  await timed('markSentMs', () => deps.store.markSent(record.key));
}
