/**
 * Firestore layout: every collection name, and the composite indexes the code's queries need.
 * terraform/ declares exactly INDEXES and TTL_FIELDS (checked by test/unit/terraform.test.ts).
 */
export const COLLECTIONS = {
  /** Saga state + the business data of the saga (for order-placement: the order). Doc id = saga id = order id. */
  sagas: 'sagas',
  /** Credit participant: customers/{customerId} {customerId, creditLimitCents, creditUsedCents}. */
  customers: 'customers',
  /** Inventory participant: products/{sku} {sku, available}. */
  products: 'products',
  /** Per-order reservation records (also tombstones) of the credit participant. Doc id = order id. */
  creditReservations: 'credit-reservations',
  /** Per-order reservation records (also tombstones) of the inventory participant. Doc id = order id. */
  inventoryReservations: 'inventory-reservations',
  /** Payment participant: payments/{orderId}. */
  payments: 'payments',
  /** The simulated payment gateway's own ledger (stands in for the gateway's side). Doc id = order id. */
  gatewayLedger: 'gateway-ledger',
  /** Inbox idempotency records, one per (consumer, application message id); carries the outbox. */
  inbox: 'inbox',
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
];

/** Fields holding an expiry timestamp: terraform declares a TTL policy on each. */
export const TTL_FIELDS: readonly { collection: CollectionName; field: string }[] = [
  { collection: COLLECTIONS.inbox, field: 'expireAt' },
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
