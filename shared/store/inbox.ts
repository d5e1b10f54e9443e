/**
 * Inbox idempotency records that also carry the outbox.
 *
 * inbox/{consumer}:{messageId} is created in the SAME transaction as the consumer's business effect and holds the
 * messages that effect produced. After commit they are published and the record is marked sent
 * (outboxPendingSince removed). A duplicate finds the record: no effect again, only a re-publish if still unsent.
 * The sweeper republishes records still pending after a grace period (crash between commit and publish).
 */
import {
  FieldValue,
  Timestamp,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from '@google-cloud/firestore';
import type { OutgoingMessage } from '../messages';
import { countWrites } from '../metrics';
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

  async markSent(key: string): Promise<void> {
    countWrites();
    await this.ref(key).update({
      outboxPendingSince: FieldValue.delete(),
      sentAt: Timestamp.fromMillis(this.now()),
    });
  }

  /** Records whose outbox is still unsent since before `cutoff` (oldest first, bounded). */
  async pendingSince(cutoff: number, limit: number): Promise<InboxRecord[]> {
    const snap = await this.db
      .collection(COLLECTIONS.inbox)
      .where('outboxPendingSince', '<=', cutoff)
      .orderBy('outboxPendingSince')
      .limit(limit)
      .get();
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
