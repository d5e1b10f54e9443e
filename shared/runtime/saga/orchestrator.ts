/**
 * The orchestrator service: applies events (participant replies, timeouts) to sagas through the pure engine,
 * inside one transaction with the inbox record and the outgoing commands (outbox), then publishes.
 * Used by the api (start), the orchestrator function (replies) and the sweeper (timeouts).
 */
import type { DocumentReference, DocumentSnapshot, Transaction } from '@google-cloud/firestore';
import { processOnce, type ConsumerDeps } from '../consumer';
import { PermanentError } from '../errors';
import type { Logger } from '../log';
import { commandId, replySchema, type OutgoingMessage, type ReplyMessage } from '../messages';
import type { SagaDoc, SagaRepository } from '../store/sagas';
import { commandMessage, skippedSteps } from './binding';
import type { AnySagaBinding } from '../registry';
import { decide, outstandingOf, start } from '../engine/engine';
import type { CommandRef, EngineOptions, SagaEvent } from '../engine/types';
import { observeDecision, sagaMetrics, type DecisionObservations } from '../telemetry/metrics';

export interface OrchestratorDeps extends ConsumerDeps {
  sagas: SagaRepository;
  engine: EngineOptions;
  now: () => number;
  log: Logger;
}

export const ORCHESTRATOR = 'orchestrator';

export class Orchestrator {
  constructor(private readonly deps: OrchestratorDeps) {}

  /**
   * Inside a caller's transaction: creates the saga document and returns the first command to record in the
   * caller's outbox. (The api records it with its own inbox record.) `trace`: the saga's root span as a
   * `traceparent`, kept on the document for what the sweeper issues later (timeouts, re-issued compensations).
   */
  startInTx(
    tx: Transaction,
    binding: AnySagaBinding,
    sagaId: string,
    data: Record<string, unknown>,
    trace?: string,
  ): OutgoingMessage[] {
    const now = this.deps.now();
    const decision = start(binding.definition, sagaId, now, this.deps.engine, skippedSteps(binding, data));
    const doc: SagaDoc = {
      ...decision.state,
      data,
      createdAt: now,
      updatedAt: now,
      ...(trace !== undefined ? { trace } : {}),
    };
    this.deps.sagas.create(tx, doc);
    return decision.commands.map((c) => commandMessage(binding, sagaId, data, c));
  }

  /**
   * Applies a participant's reply — only if that participant recorded exactly this reply (its inbox record for
   * the command, committed before the reply was published, read in the same round trip as the saga): a forged
   * reply (e.g. SUCCEEDED for a charge that never happened) is refused as NOT_SENT_BY_PARTICIPANT.
   */
  async onReply(reply: ReplyMessage): Promise<{ duplicate: boolean; postponed: boolean }> {
    const event: SagaEvent = {
      kind: 'reply',
      step: reply.step,
      action: reply.action,
      attempt: reply.attempt,
      outcome: reply.outcome,
      reason: reply.reason,
    };
    const participant = await this.replyingParticipant(reply);
    const [recordRef] = this.deps.store.progressRefs(
      participant,
      commandId(reply.sagaId, reply.step, reply.action, reply.attempt),
    );
    return this.apply(reply.sagaId, reply.id, event, [recordRef], ([recordSnap]) => {
      const recorded = this.deps.store.recordOf(recordSnap!)?.outgoing.find((m) => m.id === reply.id)?.data;
      const same = replySchema.safeParse(recorded);
      if (!same.success || same.data.outcome !== reply.outcome || same.data.reason !== reply.reason) {
        throw new PermanentError(
          `reply ${reply.id} was not recorded by participant ${participant}`,
          'NOT_SENT_BY_PARTICIPANT',
        );
      }
      return event;
    });
  }

  /**
   * The participant whose inbox record a reply must match. When the known versions of the type disagree (or none
   * has the step), the saga's own version decides: its document is read first.
   */
  private async replyingParticipant(reply: ReplyMessage): Promise<string> {
    const candidates = this.deps.registry.stepParticipants(reply.sagaType, reply.step);
    if (candidates.length === 1) return candidates[0]!.name;
    const doc = await this.deps.sagas.get(reply.sagaId);
    const binding = doc && doc.type === reply.sagaType ? this.deps.registry.bindingOf(doc) : undefined;
    const participant = binding?.steps[reply.step]?.participant.name;
    if (!participant)
      throw new PermanentError(`no participant for ${reply.sagaType}/${reply.step}`, 'UNKNOWN_STEP');
    return participant;
  }

  /**
   * Times out `cmd`, if the saga still awaits exactly that command (one of its outstanding commands): when that
   * command is overdue (`deadline`, its own deadline) or at once when
   * the command was dead-lettered (`deadLetter`). Both share one event id per command, so a timeout is applied at
   * most once.
   *
   * For a deadline, `participant` names the consumer of the command: its inbox record and claim are read in the
   * same transaction as the saga (no extra round trip), so the facts are current when the engine decides. Answered
   * (the participant recorded its reply) → nothing changes and the reply is returned for the caller to apply;
   * taken (a claim) → the step's clock runs from the claim; neither → `queued` (the caller found the participant
   * answering other work) postpones the deadline, otherwise the step times out.
   */
  async onTimeout(
    sagaId: string,
    cmd: CommandRef,
    how: { cause: 'deadline'; queued: boolean; participant: string } | { cause: 'deadLetter' },
  ): Promise<{ duplicate: boolean; postponed: boolean; answered?: ReplyMessage }> {
    const eventId = `timeout:${sagaId}:${cmd.step}:${cmd.action}:${cmd.attempt}`;
    const event: SagaEvent = { kind: 'timeout', ...cmd, cause: how.cause };
    if (how.cause === 'deadLetter') return this.apply(sagaId, eventId, event);
    const commandMessageId = commandId(sagaId, cmd.step, cmd.action, cmd.attempt);
    const [recordRef, claimRef] = this.deps.store.progressRefs(how.participant, commandMessageId);
    let answered: ReplyMessage | undefined;
    const r = await this.apply(sagaId, eventId, event, [recordRef, claimRef], ([recordSnap, claimSnap]) => {
      const where = this.deps.store.progressOf(recordSnap!, claimSnap!);
      const reply = replySchema.safeParse(where.record?.outgoing[0]?.data);
      answered = where.record && reply.success ? reply.data : undefined;
      if (answered) return null; // not timed out: the caller applies the reply
      return {
        ...event,
        ...(how.queued ? { queued: true } : {}),
        ...(where.claimedAt !== null ? { startedAt: where.claimedAt } : {}),
      };
    });
    return answered ? { ...r, answered } : r;
  }

  /**
   * Applies `event` to the saga in one transaction with its inbox record (and outbox). `refine`, given the
   * snapshots of `extraReads` (read in the same round trip as the saga), may complete the event with what they say,
   * or return null to leave everything unchanged without consuming the event.
   */
  private async apply(
    sagaId: string,
    eventId: string,
    event: SagaEvent,
    extraReads: DocumentReference[] = [],
    refine: (docs: DocumentSnapshot[]) => SagaEvent | null = () => event,
  ): Promise<{ duplicate: boolean; postponed: boolean }> {
    const log = this.deps.log.child({ sagaId, orderId: sagaId, messageId: eventId });
    const sagaRef = this.deps.sagas.ref(sagaId);
    const reads = [sagaRef, ...extraReads];
    let observed: { type: string; version: number; o: DecisionObservations } | undefined;
    const result = await processOnce(this.deps, ORCHESTRATOR, eventId, reads, (tx, [snap, ...extra]) => {
      const doc = this.deps.sagas.fromSnapshot(snap);
      if (!doc) throw new PermanentError(`no saga ${sagaId}`, 'UNKNOWN_SAGA');
      const binding = this.deps.registry.bindingOf(doc); // a version this code does not know: held (retried)
      if (!binding) throw new PermanentError(`unknown saga type ${doc.type}`, 'UNKNOWN_SAGA_TYPE');
      const refined = refine(extra);
      if (refined === null) return { incomplete: true };
      const now = this.deps.now();
      const decision = decide(doc, refined, now, this.deps.engine);
      // The attempt that commits sets it last (the callback may run more than once); recorded after the commit.
      observed = {
        type: doc.type,
        version: doc.definitionVersion ?? 1,
        o: observeDecision(doc, refined, decision, now),
      };
      const save = (): void =>
        this.deps.sagas.update(tx, {
          ...decision.state,
          data: doc.data,
          createdAt: doc.createdAt,
          updatedAt: now,
          ...(doc.trace !== undefined ? { trace: doc.trace } : {}),
        });
      // A deferred timeout (not due, or only a later deadline) is not consumed: no inbox record, so it can fire later.
      if (decision.deferred) {
        if (decision.changed) save();
        return { incomplete: true };
      }
      if (!decision.changed) return { outgoing: [], result: { ignored: decision.ignored ?? 'unchanged' } };
      const data = binding.dataSchema.parse(doc.data);
      save();
      return {
        outgoing: decision.commands.map((c) => commandMessage(binding, sagaId, data, c)),
        result: {
          status: decision.state.status,
          currentSteps: outstandingOf(decision.state).map((o) => o.step),
        },
      };
    });
    // Logged after the commit: the transaction callback may run more than once.
    if ('incomplete' in result) {
      log.debug('timeout deferred: not due, or the command is queued behind other work', { event });
      return { duplicate: false, postponed: true };
    }
    if (result.duplicate) log.info('duplicate event', { event });
    else if (result.record.result && 'ignored' in result.record.result) {
      log.info('event ignored', { event, why: result.record.result.ignored });
    } else {
      log.info('saga advanced', { event, ...result.record.result });
      if (observed) sagaMetrics().decisionApplied(observed.type, observed.version, observed.o);
    }
    return { duplicate: result.duplicate, postponed: false };
  }
}
