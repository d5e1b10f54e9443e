/**
 * Inbox idempotency records that also carry the outbox.
 *
 * inbox/{consumer}:{messageId} is created in the SAME transaction as the consumer's business effect and holds the
 * messages that effect produced. After commit they are published and the record is marked sent
 * (outboxPendingSince removed). A duplicate finds the record: no effect again, only a re-publish if still unsent.
 * The sweeper republishes records still pending after a grace period (crash between commit and publish).
 */
import {
  FieldPath,
  FieldValue,
  Timestamp,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from '@google-cloud/firestore';
import type { OutgoingMessage } from '../messages';
import { countReads, countWrites } from '../metrics';
import { COLLECTIONS } from './collections';

export const INBOX_RETENTION_MS = 7 * 24 * 3600 * 1000;

interface StoredOutgoing {
  topic: string;
  id: string;
  data: string;
  attributes: Record<string, string>;
  orderingKey?: string;
}

export interface InboxRecord {
  key: string;
  consumer: string;
  messageId: string;
  outgoing: OutgoingMessage[];
  /** Epoch ms since when the outgoing messages wait to be published; null once sent (or none). */
  outboxPendingSince: number | null;
  result: Record<string, unknown> | null;
}

export function inboxKey(consumer: string, messageId: string): string {
  return `${consumer}:${messageId}`;
}

export class MessageStore {
  constructor(
    readonly db: Firestore,
    private readonly now: () => number = Date.now,
  ) {}

  private ref(key: string) {
    return this.db.collection(COLLECTIONS.inbox).doc(key);
  }

  /** The inbox record (if the message was processed already) and `others`, in one batched read. */
  async readWith(
    tx: Transaction,
    consumer: string,
    messageId: string,
    others: readonly DocumentReference[],
  ): Promise<{ existing: InboxRecord | null; docs: DocumentSnapshot[] }> {
    const [snap, ...docs] = await tx.getAll(this.ref(inboxKey(consumer, messageId)), ...others);
    return { existing: snap!.exists ? fromDoc(snap!.id, snap!.data()!) : null, docs };
  }

  /** Records the message as processed, with what it produced. Must be the transaction's last write. */
  record(
    tx: Transaction,
    consumer: string,
    messageId: string,
    outgoing: readonly OutgoingMessage[],
    result: Record<string, unknown> | null = null,
  ): InboxRecord {
    const key = inboxKey(consumer, messageId);
    const now = this.now();
    const pending = outgoing.length > 0 ? now : null;
    tx.create(this.ref(key), {
      consumer,
      messageId,
      processedAt: Timestamp.fromMillis(now),
      expireAt: Timestamp.fromMillis(now + INBOX_RETENTION_MS),
      outgoing: outgoing.map(toStored),
      ...(pending !== null ? { outboxPendingSince: pending } : {}),
      result,
    });
    return { key, consumer, messageId, outgoing: [...outgoing], outboxPendingSince: pending, result };
  }

  /**
   * Records that `consumer` took the message (committed its intent before an external call): claims/{key}
   * {claimedAt}. Written once per message — only the transaction that made the intent calls it — so redeliveries do
   * not restart the clock.
   */
  claim(tx: Transaction, consumer: string, messageId: string): void {
    const key = inboxKey(consumer, messageId);
    const now = this.now();
    tx.set(this.db.collection(COLLECTIONS.claims).doc(key), {
      consumer,
      messageId,
      claimedAt: now,
      expireAt: Timestamp.fromMillis(now + INBOX_RETENTION_MS),
    });
  }

  /**
   * The documents that say where `messageId` is with `consumer` — its inbox record (processed) and its claim
   * (taken) — to read inside a transaction together with others; `progressOf` interprets their snapshots.
   */
  progressRefs(consumer: string, messageId: string): [DocumentReference, DocumentReference] {
    const key = inboxKey(consumer, messageId);
    return [this.ref(key), this.db.collection(COLLECTIONS.claims).doc(key)];
  }

  /** The inbox record in a snapshot of `progressRefs(...)[0]`, or null. */
  recordOf(snap: DocumentSnapshot): InboxRecord | null {
    return snap.exists ? fromDoc(snap.id, snap.data()!) : null;
  }

  progressOf(
    record: DocumentSnapshot,
    claim: DocumentSnapshot,
  ): { record: InboxRecord | null; claimedAt: number | null } {
    const claimedAt: unknown = claim.exists ? claim.get('claimedAt') : null;
    return {
      record: record.exists ? fromDoc(record.id, record.data()!) : null,
      claimedAt: typeof claimedAt === 'number' ? claimedAt : null,
    };
  }

  /** Whether `consumer` processed any message since `since` (epoch ms): it is answering, so it is alive. */
  async processedSince(consumer: string, since: number): Promise<boolean> {
    const snap = await this.db
      .collection(COLLECTIONS.inbox)
      .where('consumer', '==', consumer)
      .where('processedAt', '>=', Timestamp.fromMillis(since))
      .limit(1)
      .get();
    countReads(Math.max(1, snap.size));
    return !snap.empty;
  }

  async markSent(key: string): Promise<void> {
    countWrites();
    await this.ref(key).update({
      outboxPendingSince: FieldValue.delete(),
      sentAt: Timestamp.fromMillis(this.now()),
    });
  }

  /**
   * Records whose outbox is still unsent since before `cutoff`, oldest first, one page after `after` (the last
   * record of the previous page): a caller pages past records it could not deliver.
   */
  async pendingSince(cutoff: number, limit: number, after?: InboxRecord): Promise<InboxRecord[]> {
    let q = this.db
      .collection(COLLECTIONS.inbox)
      .where('outboxPendingSince', '<=', cutoff)
      .orderBy('outboxPendingSince')
      .orderBy(FieldPath.documentId());
    if (after) q = q.startAfter(after.outboxPendingSince, after.key);
    const snap = await q.limit(limit).get();
    countReads(Math.max(1, snap.size));
    return snap.docs.map((d) => fromDoc(d.id, d.data()));
  }
}

function toStored(m: OutgoingMessage): StoredOutgoing {
  const s: StoredOutgoing = {
    topic: m.topic,
    id: m.id,
    data: JSON.stringify(m.data),
    attributes: m.attributes,
  };
  if (m.orderingKey) s.orderingKey = m.orderingKey;
  return s;
}

function fromDoc(key: string, d: FirebaseFirestore.DocumentData): InboxRecord {
  const stored = (d.outgoing ?? []) as StoredOutgoing[];
  return {
    key,
    consumer: String(d.consumer),
    messageId: String(d.messageId),
    outgoing: stored.map((s) => ({
      topic: s.topic,
      id: s.id,
      data: JSON.parse(s.data) as Record<string, unknown>,
      attributes: s.attributes,
      ...(s.orderingKey ? { orderingKey: s.orderingKey } : {}),
    })),
    outboxPendingSince: typeof d.outboxPendingSince === 'number' ? d.outboxPendingSince : null,
    result: (d.result as Record<string, unknown> | null) ?? null,
  };
}
