/**
 * Durable dead-letter records: dead-letters/{id}. Written by consumers for poison messages (at once, no retries)
 * and by the dead-letters function for everything that reaches a `*-dlq` topic. Ids are deterministic, so a
 * redelivered dead letter is recorded once.
 */
import { createHash } from 'node:crypto';
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { COLLECTIONS } from './collections';

export interface DeadLetterInput {
  /** The topic the message was originally published to (redrive target). */
  sourceTopic: string;
  subscription: string | null;
  /** Original message data (utf8 text, as published). */
  data: string;
  attributes: Record<string, string>;
  deliveryCount: number | null;
  reason: string;
  detail: string;
  /** The key that makes recording idempotent (e.g. the dead-letter message id). */
  dedupeKey: string;
}

export interface DeadLetter extends Omit<DeadLetterInput, 'dedupeKey'> {
  id: string;
  sagaId: string | null;
  messageId: string | null;
  recordedAt: string;
  redrivenAt: string | null;
  redriveCount: number;
}

/** Best effort: the saga id and application message id of a message, when its data or attributes carry them. */
export function identify(
  data: string,
  attributes: Record<string, string>,
): { sagaId: string | null; messageId: string | null } {
  let sagaId = attributes.sagaId ?? null;
  let messageId = attributes.messageId ?? null;
  try {
    const json = JSON.parse(data) as unknown;
    if (json && typeof json === 'object') {
      const o = json as Record<string, unknown>;
      if (!sagaId && typeof o.sagaId === 'string') sagaId = o.sagaId.slice(0, 64);
      if (!messageId && typeof o.id === 'string') messageId = o.id.slice(0, 300);
    }
  } catch {
    // not JSON: nothing more to learn
  }
  return { sagaId, messageId };
}

export class DeadLetterStore {
  constructor(
    private readonly db: Firestore,
    private readonly now: () => number = Date.now,
  ) {}

  private col() {
    return this.db.collection(COLLECTIONS.deadLetters);
  }

  /** Records once per dedupeKey; returns the record id. */
  async record(input: DeadLetterInput): Promise<string> {
    const id = createHash('sha256')
      .update(`${input.sourceTopic}\n${input.dedupeKey}`)
      .digest('hex')
      .slice(0, 32);
    const { sagaId, messageId } = identify(input.data, input.attributes);
    const doc: DeadLetter = {
      id,
      sourceTopic: input.sourceTopic,
      subscription: input.subscription,
      data: input.data.slice(0, 200_000),
      attributes: input.attributes,
      deliveryCount: input.deliveryCount,
      reason: input.reason,
      detail: input.detail.slice(0, 2000),
      sagaId,
      messageId,
      recordedAt: new Date(this.now()).toISOString(),
      redrivenAt: null,
      redriveCount: 0,
    };
    try {
      await this.col()
        .doc(id)
        .create({ ...doc, recordedAtMs: Timestamp.fromMillis(this.now()) });
    } catch (err) {
      if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
    }
    return id;
  }

  async get(id: string): Promise<DeadLetter | null> {
    const snap = await this.col().doc(id).get();
    return snap.exists ? strip(snap.data()!) : null;
  }

  async list(limit: number): Promise<DeadLetter[]> {
    const snap = await this.col().orderBy('recordedAtMs', 'desc').limit(limit).get();
    return snap.docs.map((d) => strip(d.data()));
  }

  async markRedriven(id: string): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      const ref = this.col().doc(id);
      const snap = await tx.get(ref);
      if (!snap.exists) return;
      tx.update(ref, {
        redrivenAt: new Date(this.now()).toISOString(),
        redriveCount: Number(snap.get('redriveCount') ?? 0) + 1,
      });
    });
  }
}

function strip(d: FirebaseFirestore.DocumentData): DeadLetter {
  const { recordedAtMs: _ignored, ...rest } = d;
  return rest as DeadLetter;
}
