/**
 * Firestore layout of the runtime: its collection names, and the composite indexes the code's queries need.
 * Participants declare their own collections next to their contract (shared/participants/*).
 * terraform/ declares exactly INDEXES and TTL_FIELDS (checked by test/unit/terraform.test.ts).
 */
export const COLLECTIONS = {
  /** Saga state + the business data of the saga (for order-placement: the order). Doc id = saga id = order id. */
  sagas: 'sagas',
  /** Payment participant: payments/{orderId}. */
  payments: 'payments',
  /** The simulated payment gateway's own ledger (stands in for the gateway's side). Doc id = order id. */
  gatewayLedger: 'gateway-ledger',
  /** Inbox idempotency records, one per (consumer, application message id); carries the outbox. */
  inbox: 'inbox',
  /**
   * When a consumer took a command whose work spans an external call (its intent committed first):
   * claims/{consumer}:{messageId} {claimedAt}. Starts the step's clock for the sweeper (queued ≠ taken).
   */
  claims: 'claims',
  /** Idempotency-Key records of POST /orders. */
  idempotencyKeys: 'idempotency-keys',
  /** Recorded dead letters. */
  deadLetters: 'dead-letters',
} as const;

export type CollectionName = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

export interface CompositeIndex {
  collection: CollectionName;
  fields: readonly { field: string; order: 'ASCENDING' | 'DESCENDING' }[];
  /** What query needs it. */
  usedBy: string;
}

export const INDEXES: readonly CompositeIndex[] = [
  {
    collection: COLLECTIONS.sagas,
    fields: [
      { field: 'status', order: 'ASCENDING' },
      { field: 'createdAt', order: 'DESCENDING' },
    ],
    usedBy: 'saga list --status S (newest first)',
  },
  {
    collection: COLLECTIONS.sagas,
    fields: [
      { field: 'type', order: 'ASCENDING' },
      { field: 'createdAt', order: 'DESCENDING' },
    ],
    usedBy: 'saga list --type T (newest first)',
  },
  {
    collection: COLLECTIONS.sagas,
    fields: [
      { field: 'type', order: 'ASCENDING' },
      { field: 'status', order: 'ASCENDING' },
      { field: 'createdAt', order: 'DESCENDING' },
    ],
    usedBy: 'saga list --type T --status S (newest first)',
  },
  {
    collection: COLLECTIONS.sagas,
    fields: [
      { field: 'type', order: 'ASCENDING' },
      { field: 'definitionVersion', order: 'ASCENDING' },
    ],
    usedBy: 'saga versions: the definition versions recorded by the sagas of a type (one query per version)',
  },
  {
    collection: COLLECTIONS.sagas,
    fields: [
      { field: 'type', order: 'ASCENDING' },
      { field: 'definitionVersion', order: 'ASCENDING' },
      { field: 'createdAt', order: 'DESCENDING' },
    ],
    usedBy: 'console: sagas of one type and definition version (newest first)',
  },
  {
    collection: COLLECTIONS.sagas,
    fields: [
      { field: 'type', order: 'ASCENDING' },
      { field: 'definitionVersion', order: 'ASCENDING' },
      { field: 'status', order: 'ASCENDING' },
      { field: 'createdAt', order: 'DESCENDING' },
    ],
    usedBy: 'console: sagas of one type, definition version and status (newest first)',
  },
  {
    collection: COLLECTIONS.inbox,
    fields: [
      { field: 'consumer', order: 'ASCENDING' },
      { field: 'processedAt', order: 'ASCENDING' },
    ],
    usedBy: 'sweeper: has a participant processed anything lately (is an overdue command queued or lost?)',
  },
  {
    collection: COLLECTIONS.deadLetters,
    fields: [
      { field: 'redrivenAt', order: 'ASCENDING' },
      { field: 'recordedAtMs', order: 'ASCENDING' },
    ],
    usedBy:
      'dlq redrive --all: every record not redriven yet (redrivenAt == null), oldest first, page after page',
  },
];

/** Fields holding an expiry timestamp: terraform declares a TTL policy on each. */
export const TTL_FIELDS: readonly { collection: CollectionName; field: string }[] = [
  { collection: COLLECTIONS.inbox, field: 'expireAt' },
  { collection: COLLECTIONS.claims, field: 'expireAt' },
  { collection: COLLECTIONS.idempotencyKeys, field: 'expireAt' },
];

/**
 * Maps an application id (validated `[A-Za-z0-9_-]{1,64}`) to a Firestore document id. Ids of the form `__x__` are
 * reserved by Firestore, so they (and only they) are prefixed with `~`, a character no valid id contains: the
 * mapping is injective and every valid id is an ordinary id.
 */
export function docId(id: string): string {
  return /^__.*__$/.test(id) ? `~${id}` : id;
}
