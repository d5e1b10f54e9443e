/**
 * The *external effect* participant kind: the forward action calls an outside API (a payment gateway, a booking
 * system), the compensation reverses it — or voids it, so that a call still in flight is refused. The API is never
 * called inside a transaction; every command runs in stages, each one transaction of the consumer (processOnce):
 *
 *   forward:    intent { none → INTENT, claims the command }  →  perform(payload)
 *               → result { INTENT → DONE | REJECTED; reply }
 *   compensate: intent { none → CANCELLED tombstone; reply | INTENT/DONE → REVERSING, claims the command }
 *               → reverse(key) → result { REVERSING → REVERSED | CANCELLED (nothing had been done); reply }
 *
 * A command whose record already says how it ended is answered from the record. A crash anywhere is recovered by
 * redelivery: every stage is idempotent, and perform / reverse must be idempotent per key. An unavailable API is a
 * TransientError thrown by perform / reverse (Pub/Sub retries, eventually dead-letters, the step times out).
 *
 * A participant of this kind provides an ExternalEffectParticipant: its name (inbox namespace), payload schema, the
 * effect key (one record and one external effect per key, e.g. the order id), the record collection, perform and
 * reverse; optionally the fields a new record carries and how its state is stored (RecordLayout). The state
 * transitions are pure (`transition`); records live behind the EffectPersistence port, whose Firestore adapter is
 * `firestoreEffectPersistence`; `runExternalEffect(participant, persistence, cmd)` runs a command.
 */
import type { DocumentSnapshot, Firestore, Transaction } from '@google-cloud/firestore';
import type { z } from 'zod';
import { processOnce, type ConsumerDeps } from '../consumer';
import type { StepAction } from '../engine/types';
import type { CommandMessage } from '../messages';
import { sagaRef } from '../store/sagas';
import { assertIssuedBySaga, parsePayload, replyMessage, type StepOutcome } from './transactional';

/** INTENT and REVERSING are in flight (the external call may or may not have happened); the others are settled. */
export type EffectState = 'INTENT' | 'DONE' | 'REJECTED' | 'REVERSING' | 'REVERSED' | 'CANCELLED';

export interface EffectRecord {
  state: EffectState;
  /** For REVERSING: the state the reversal started from. */
  before?: 'INTENT' | 'DONE';
  /** For REJECTED: why. */
  reason?: string;
}

/** What the outside API said to the forward action. VOIDED: it refused because the key had been voided first. */
export type PerformResult =
  { status: 'DONE' } | { status: 'REJECTED'; reason: string } | { status: 'VOIDED' };

/** What the outside API said to the reversal: `reversed` false when nothing had been done (the key is now void). */
export interface ReverseResult {
  reversed: boolean;
}

export type RecordWrite =
  | { op: 'create'; state: 'INTENT' | 'CANCELLED' }
  /** `before`: null clears it, absent leaves it as it is. */
  | { op: 'update'; state: EffectState; before?: 'INTENT' | 'DONE' | null; reason?: string };

/**
 * What a stage does in its transaction: apply `write` (if any), then either reply (the message is done: inbox
 * record and reply commit with the write) or continue to the external call (`claim`: this stage took the command,
 * which starts the step's clock; only the stage that writes the in-flight state claims).
 */
export type Transition =
  | { write?: RecordWrite; next: 'reply'; outcome: StepOutcome }
  | { write?: RecordWrite; next: 'call'; claim: boolean };

/** `intent`: before the external call. `result`: after it, with what the API said. */
export type TransitionInput =
  | { action: 'forward'; stage: 'intent'; record: EffectRecord | null }
  | { action: 'forward'; stage: 'result'; record: EffectRecord | null; result: PerformResult }
  | { action: 'compensate'; stage: 'intent'; record: EffectRecord | null }
  | { action: 'compensate'; stage: 'result'; record: EffectRecord | null; result: ReverseResult };

const SUCCEEDED: StepOutcome = { outcome: 'SUCCEEDED' };
const COMPENSATED_FIRST: StepOutcome = { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' };

function reply(outcome: StepOutcome, write?: RecordWrite): Transition {
  return write ? { write, next: 'reply', outcome } : { next: 'reply', outcome };
}

/** The state machine of the kind: pure, no I/O. */
export function transition(input: TransitionInput): Transition {
  const { record } = input;
  if (input.action === 'forward' && input.stage === 'intent') {
    if (!record) return { write: { op: 'create', state: 'INTENT' }, next: 'call', claim: true };
    switch (record.state) {
      case 'INTENT':
        return { next: 'call', claim: false };
      case 'DONE':
        return reply(SUCCEEDED);
      case 'REJECTED':
        return reply({ outcome: 'FAILED', reason: record.reason ?? 'REJECTED' });
      case 'REVERSING':
      case 'REVERSED':
      case 'CANCELLED':
        return reply(COMPENSATED_FIRST);
    }
  }
  if (input.action === 'forward') {
    // Anything but INTENT: a reversal got there while we were calling out; it owns undoing (or voiding) the effect.
    if (record?.state !== 'INTENT' || input.result.status === 'VOIDED') return reply(COMPENSATED_FIRST);
    if (input.result.status === 'DONE') return reply(SUCCEEDED, { op: 'update', state: 'DONE' });
    const { reason } = input.result;
    return reply({ outcome: 'FAILED', reason }, { op: 'update', state: 'REJECTED', reason });
  }
  if (input.stage === 'intent') {
    // Nothing yet: the compensation overtook the forward action; the tombstone makes the late forward refused.
    if (!record) return reply(SUCCEEDED, { op: 'create', state: 'CANCELLED' });
    switch (record.state) {
      case 'INTENT':
      case 'DONE':
        return {
          write: { op: 'update', state: 'REVERSING', before: record.state },
          next: 'call',
          claim: true,
        };
      case 'REVERSING':
        return { next: 'call', claim: false };
      case 'REJECTED':
      case 'REVERSED':
      case 'CANCELLED':
        return reply(SUCCEEDED);
    }
  }
  if (record?.state !== 'REVERSING') return reply(SUCCEEDED);
  const state = input.result.reversed ? 'REVERSED' : 'CANCELLED';
  return reply(SUCCEEDED, { op: 'update', state, before: null });
}

/** The record after `write` (what an adapter stores, in the kind's terms). */
export function applyWrite(record: EffectRecord | null, write: RecordWrite): EffectRecord {
  if (write.op === 'create') return { state: write.state };
  const next: EffectRecord = { ...record, state: write.state };
  if (write.before === null) delete next.before;
  else if (write.before !== undefined) next.before = write.before;
  if (write.reason !== undefined) next.reason = write.reason;
  return next;
}

/** How records are stored: field and state names, so an existing participant keeps its documents unchanged. */
export interface RecordLayout {
  stateField: string;
  beforeField: string;
  /** Where a rejection's reason is stored; null: not stored, a REJECTED record reads as `rejectedReason`. */
  reasonField: string | null;
  rejectedReason: string;
  /** The stored name of each state (distinct). */
  states: Record<EffectState, string>;
}

export const DEFAULT_LAYOUT: RecordLayout = {
  stateField: 'state',
  beforeField: 'before',
  reasonField: 'reason',
  rejectedReason: 'REJECTED',
  states: {
    INTENT: 'INTENT',
    DONE: 'DONE',
    REJECTED: 'REJECTED',
    REVERSING: 'REVERSING',
    REVERSED: 'REVERSED',
    CANCELLED: 'CANCELLED',
  },
};

/** Reads and writes records in a layout's terms (pure: document data in, document data out). */
export interface RecordCodec {
  decode(data: Record<string, unknown> | undefined): EffectRecord | null;
  /** The fields to create (with `fields`, what a new record carries besides its state) or to update. */
  encode(write: RecordWrite, fields?: Record<string, unknown>): Record<string, unknown>;
}

export function recordCodec(layout: RecordLayout): RecordCodec {
  const byName = new Map<string, EffectState>();
  for (const [state, name] of Object.entries(layout.states) as [EffectState, string][]) {
    if (byName.has(name)) throw new Error(`record layout: state name ${name} is used twice`);
    byName.set(name, state);
  }
  const stateOf = (name: unknown): EffectState => {
    const state = typeof name === 'string' ? byName.get(name) : undefined;
    if (!state) throw new Error(`effect record has an unknown state ${JSON.stringify(name)}`);
    return state;
  };
  return {
    decode(data) {
      if (!data) return null;
      const record: EffectRecord = { state: stateOf(data[layout.stateField]) };
      const before = data[layout.beforeField];
      if (before !== undefined && before !== null) {
        const b = stateOf(before);
        if (b !== 'INTENT' && b !== 'DONE')
          throw new Error(`effect record: a reversal cannot start from ${b}`);
        record.before = b;
      }
      if (record.state === 'REJECTED') {
        const reason = layout.reasonField === null ? undefined : data[layout.reasonField];
        record.reason = typeof reason === 'string' ? reason : layout.rejectedReason;
      }
      return record;
    },
    encode(write, fields = {}) {
      const out: Record<string, unknown> = write.op === 'create' ? { ...fields } : {};
      out[layout.stateField] = layout.states[write.state];
      if (write.op === 'update') {
        if (write.before !== undefined) {
          out[layout.beforeField] = write.before === null ? null : layout.states[write.before];
        }
        if (write.reason !== undefined && layout.reasonField !== null) out[layout.reasonField] = write.reason;
      }
      return out;
    },
  };
}

export interface ExternalEffectParticipant<P> {
  /** Consumer name (inbox namespace). */
  name: string;
  payloadSchema: z.ZodType<P>;
  /** The effect's idempotency key: one record and one external effect per key. */
  key(payload: P): string;
  /** Records are {collection}/{key}. */
  collection: string;
  /** Fields a new record (intent or tombstone) carries besides its state. */
  fields?(payload: P): Record<string, unknown>;
  layout?: RecordLayout;
  /** The forward call. Idempotent per key; throws TransientError when the API is unavailable. */
  perform(payload: P): Promise<PerformResult>;
  /** Reverses the effect of `key`, or voids the key when nothing was done. Idempotent per key. */
  reverse(key: string, payload: P): Promise<ReverseResult>;
}

export type StageResult = { done: true; duplicate: boolean } | { done: false };

/**
 * The persistence port (after Powertools idempotency's BasePersistenceLayer: a record per key, read and written by
 * the protocol, stored by an adapter). `stage` runs one stage as one transaction of the consumer for `cmd`: reads
 * the record of `key` in it, applies the write of `decide(record)`, and commits with it the claim, or the inbox
 * record and reply (done). A duplicate (`cmd` done already) runs nothing and re-sends its reply if still unsent.
 */
export interface EffectPersistence<P> {
  stage(
    cmd: CommandMessage,
    key: string,
    payload: P,
    decide: (record: EffectRecord | null) => Transition,
  ): Promise<StageResult>;
}

/** The protocol: runs `cmd` (forward or compensate) through its stages and the external call between them. */
export async function runExternalEffect<P>(
  participant: ExternalEffectParticipant<P>,
  persistence: EffectPersistence<P>,
  cmd: CommandMessage,
): Promise<{ duplicate: boolean }> {
  const payload = parsePayload(participant.payloadSchema, cmd);
  const key = participant.key(payload);
  const stage = (decide: (record: EffectRecord | null) => Transition) =>
    persistence.stage(cmd, key, payload, decide);
  const action: StepAction = cmd.action;
  const first = await stage((record) => transition({ action, stage: 'intent', record }));
  if (first.done) return { duplicate: first.duplicate };
  let second: StageResult;
  if (action === 'forward') {
    const result = await participant.perform(payload);
    second = await stage((record) => transition({ action, stage: 'result', record, result }));
  } else {
    const result = await participant.reverse(key, payload);
    second = await stage((record) => transition({ action, stage: 'result', record, result }));
  }
  return { duplicate: second.done && second.duplicate };
}

/**
 * The Firestore adapter: each stage is one processOnce of the participant's consumer, reading the record and the
 * saga document (the command must have been issued by its saga) with the inbox check.
 */
export function firestoreEffectPersistence<P>(
  deps: ConsumerDeps,
  participant: ExternalEffectParticipant<P>,
  db: Firestore = deps.store.db,
): EffectPersistence<P> {
  const codec = recordCodec(participant.layout ?? DEFAULT_LAYOUT);
  const ref = (key: string) => db.collection(participant.collection).doc(key);
  return {
    async stage(cmd, key, payload, decide) {
      const reads = [ref(key), sagaRef(db, cmd.sagaId)];
      const work = (tx: Transaction, [snap, sagaSnap]: DocumentSnapshot[]) => {
        assertIssuedBySaga(deps.registry, sagaSnap, cmd);
        const t = decide(codec.decode(snap?.data()));
        if (t.write?.op === 'create') {
          tx.create(ref(key), codec.encode(t.write, participant.fields?.(payload)));
        } else if (t.write) {
          tx.update(ref(key), codec.encode(t.write));
        }
        if (t.next === 'call') return { incomplete: true as const, claimed: t.claim };
        return { outgoing: [replyMessage(cmd, t.outcome)], result: { ...t.outcome } };
      };
      const r = await processOnce(deps, participant.name, cmd.id, reads, work);
      return 'incomplete' in r ? { done: false } : { done: true, duplicate: r.duplicate };
    },
  };
}
