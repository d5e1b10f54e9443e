/**
 * Durable dead-letter records: dead-letters/{id}. Written by consumers for poison messages (at once, no retries)
 * and by the dead-letters function for everything that reaches a `*-dlq` topic. Ids are deterministic, so a
 * redelivered dead letter is recorded once.
 */
import { createHash } from 'node:crypto';
import { FieldPath, Timestamp, type DocumentSnapshot, type Firestore } from '@google-cloud/firestore';
import { GRPC, grpcCode } from '../errors';
import { COLLECTIONS } from './collections';
import { sagaMetrics } from '../telemetry/metrics';
import { decodeCursor, encodeCursor, pageOf, type Page, type Position } from './cursor';

export interface DeadLetterInput {
  /** The topic the message was originally published to (redrive target). */
  sourceTopic: string;
  subscription: string | null;
  /** Original message data (utf8 text, as published). */
  data: string;
  /** The original data as bytes, when known (a push message's decoded data); default: `data` as UTF-8. */
  bytes?: Buffer;
  attributes: Record<string, string>;
  /**
   * The message's ordering key, when known (production push bodies carry it); otherwise its `orderingKey`
   * attribute, which every message we publish with an ordering key also carries.
   */
  orderingKey?: string | null;
  deliveryCount: number | null;
  reason: string;
  detail: string;
  /** The key that makes recording idempotent (e.g. the dead-letter message id). */
  dedupeKey: string;
}

export interface DeadLetter extends Omit<DeadLetterInput, 'dedupeKey' | 'bytes' | 'orderingKey'> {
  id: string;
  /** Redrive publishes with it, so a redriven command is serialized with its customer's / SKU's others. */
  orderingKey: string | null;
  sagaId: string | null;
  messageId: string | null;
  /**
   * The original data, base64 — what redrive publishes, byte for byte. Null when it was larger than
   * MAX_RAW_BYTES (then `dataTruncated`), and on records written before it existed.
   */
  dataBase64: string | null;
  /** `data` (and `dataBase64`) do not hold the whole message: it was larger than the record keeps. */
  dataTruncated: boolean;
  /**
   * The original attributes as JSON, when `attributes` had to be changed to be storable (lone surrogates, empty or
   * Firestore-reserved keys, oversized entries); redrive uses these. Null otherwise.
   */
  attributesJson: string | null;
  recordedAt: string;
  redrivenAt: string | null;
  redriveCount: number;
}

/** What a record keeps of a message (a Firestore document holds at most 1 MiB; these add up to well below). */
export const RECORD_LIMITS = {
  /** UTF-8 bytes of the `data` text. */
  textBytes: 200_000,
  /** Original bytes kept in `dataBase64` (Pub/Sub messages may be up to 10 MB; ours are a few hundred bytes). */
  rawBytes: 256 * 1024,
  /** Pub/Sub's own attribute limits: 100 attributes, keys up to 256 bytes, values up to 1024 bytes. */
  attributes: 100,
  keyBytes: 256,
  valueBytes: 1024,
  attributesJsonBytes: 128 * 1024,
  detailBytes: 2000,
} as const;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text Firestore can store: every lone UTF-16 surrogate (which has no UTF-8 encoding, and which JSON.parse produces
 * from an escaped `\ud800`) becomes U+FFFD, and the text is cut to `maxBytes` of UTF-8 at a character boundary.
 */
export function storableText(text: string, maxBytes: number): string {
  const clean = text.replace(LONE_SURROGATE, '\uFFFD');
  if (Buffer.byteLength(clean, 'utf8') <= maxBytes) return clean;
  // Cut the UTF-8 bytes, then drop a trailing partial character (decoded as U+FFFD) so the cut adds nothing.
  return Buffer.from(clean, 'utf8')
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

/**
 * Attributes as a storable map: keys and values made storable text and cut to Pub/Sub's limits; a key Firestore
 * refuses (empty, or reserved like `__x__`) is prefixed with `~`. `exact` is false when anything changed.
 */
export function storableAttributes(attributes: Record<string, string>): {
  attributes: Record<string, string>;
  exact: boolean;
} {
  const out: Record<string, string> = {};
  let exact = true;
  const entries = Object.entries(attributes);
  if (entries.length > RECORD_LIMITS.attributes) exact = false;
  for (const [k, v] of entries.slice(0, RECORD_LIMITS.attributes)) {
    let key = storableText(k, RECORD_LIMITS.keyBytes);
    if (key === '' || /^__.*__$/s.test(key)) key = `~${key}`;
    const value = storableText(v, RECORD_LIMITS.valueBytes);
    if (key !== k || value !== v || key in out) exact = false;
    if (!(key in out)) out[key] = value;
  }
  return { attributes: out, exact };
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
      if (!sagaId && typeof o.sagaId === 'string') sagaId = o.sagaId;
      if (!messageId && typeof o.id === 'string') messageId = o.id;
    }
  } catch {
    // not JSON: nothing more to learn
  }
  // Taken from the message: anything may be in them (JSON.parse turns `"\ud800"` into a lone surrogate).
  return {
    sagaId: sagaId === null ? null : storableText(sagaId, 64),
    messageId: messageId === null ? null : storableText(messageId, 300),
  };
}

export class DeadLetterStore {
  constructor(
    private readonly db: Firestore,
    private readonly now: () => number = Date.now,
  ) {}

  private col() {
    return this.db.collection(COLLECTIONS.deadLetters);
  }

  /**
   * Records once per dedupeKey; returns the record id. Every string taken from the message is made storable
   * (storableText) and bounded (RECORD_LIMITS), so no message is unrecordable: the dead-letters function and the
   * poison path of every push handler would otherwise fail on it forever.
   */
  async record(input: DeadLetterInput): Promise<string> {
    const id = createHash('sha256')
      .update(`${input.sourceTopic}\n${input.dedupeKey}`)
      .digest('hex')
      .slice(0, 32);
    const now = this.now();
    const { sagaId, messageId } = identify(input.data, input.attributes);
    const bytes = input.bytes ?? Buffer.from(input.data, 'utf8');
    const text = storableText(input.data, RECORD_LIMITS.textBytes);
    const rawKept = bytes.length <= RECORD_LIMITS.rawBytes;
    const { attributes, exact } = storableAttributes(input.attributes);
    const attributesJson = exact ? null : JSON.stringify(input.attributes);
    const orderingKey = input.orderingKey || input.attributes.orderingKey || null;
    const doc: DeadLetter = {
      id,
      sourceTopic: storableText(input.sourceTopic, 300),
      subscription: input.subscription === null ? null : storableText(input.subscription, 1000),
      data: text,
      dataBase64: rawKept ? bytes.toString('base64') : null,
      dataTruncated: !rawKept || Buffer.byteLength(text, 'utf8') < Buffer.byteLength(input.data, 'utf8'),
      attributes,
      attributesJson:
        attributesJson !== null && Buffer.byteLength(attributesJson) <= RECORD_LIMITS.attributesJsonBytes
          ? attributesJson
          : null,
      orderingKey: orderingKey === null ? null : storableText(orderingKey, 1024),
      deliveryCount: input.deliveryCount,
      reason: storableText(input.reason, 200),
      detail: storableText(input.detail, RECORD_LIMITS.detailBytes),
      sagaId,
      messageId,
      recordedAt: new Date(now).toISOString(),
      redrivenAt: null,
      redriveCount: 0,
    };
    try {
      await this.col()
        .doc(id)
        .create({ ...doc, recordedAtMs: Timestamp.fromMillis(now) });
      sagaMetrics().deadLetterRecorded(doc.sourceTopic, doc.reason); // once per message: not on a redelivery
    } catch (err) {
      if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
    }
    return id;
  }

  async get(id: string): Promise<DeadLetter | null> {
    const snap = await this.col().doc(id).get();
    return snap.exists ? strip(snap.data()!) : null;
  }

  /**
   * Newest first, `limit` per page; `after` is the `next` cursor of the previous page. Ordered by (recordedAtMs,
   * document id): the single-field index on recordedAtMs serves it.
   */
  async list(limit: number, after?: string | null): Promise<Page<DeadLetter>> {
    let q = this.col().orderBy('recordedAtMs', 'desc').orderBy(FieldPath.documentId(), 'desc');
    if (after) {
      const p = decodeCursor(DLQ_LIST, after);
      q = q.startAfter(Timestamp.fromMillis(p.at), p.id);
    }
    const snap = await q.limit(limit + 1).get();
    const fetched = snap.docs.map((d) => ({
      value: strip(d.data()),
      cursor: encodeCursor(DLQ_LIST, positionOf(d)),
    }));
    return pageOf(fetched, limit);
  }

  /**
   * The records of one saga (at most `limit`), newest first. An equality filter only: the single-field index on
   * sagaId serves it; the few records of a saga are sorted here.
   */
  async ofSaga(sagaId: string, limit: number): Promise<DeadLetter[]> {
    const snap = await this.col().where('sagaId', '==', sagaId).limit(limit).get();
    return snap.docs
      .map((d) => strip(d.data()))
      .sort((a, b) => b.recordedAt.localeCompare(a.recordedAt) || b.id.localeCompare(a.id));
  }

  /**
   * Records not redriven yet and recorded at or before `upTo` (ms), oldest first, one page of `limit` after `after`
   * (the last record of the previous page). Uses the (redrivenAt, recordedAtMs) composite index, so a storm of
   * records already redriven costs nothing to page past.
   */
  async notRedriven(opts: {
    limit: number;
    upTo: number;
    after?: Position | null;
  }): Promise<{ items: DeadLetter[]; last: Position | null }> {
    let q = this.col()
      .where('redrivenAt', '==', null)
      .where('recordedAtMs', '<=', Timestamp.fromMillis(opts.upTo))
      .orderBy('recordedAtMs')
      .orderBy(FieldPath.documentId());
    if (opts.after) q = q.startAfter(Timestamp.fromMillis(opts.after.at), opts.after.id);
    const snap = await q.limit(opts.limit).get();
    const last = snap.docs[snap.docs.length - 1];
    return { items: snap.docs.map((d) => strip(d.data())), last: last ? positionOf(last) : null };
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

const DLQ_LIST = 'dlq';

function positionOf(snap: DocumentSnapshot): Position {
  return { at: (snap.get('recordedAtMs') as Timestamp).toMillis(), id: snap.id };
}

function strip(d: FirebaseFirestore.DocumentData): DeadLetter {
  const { recordedAtMs: _ignored, ...rest } = d;
  // Records written before these fields existed.
  return {
    dataBase64: null,
    dataTruncated: false,
    attributesJson: null,
    orderingKey: null,
    ...rest,
  } as DeadLetter;
}
