/**
 * The orchestrator service: applies events (participant replies, timeouts) to sagas through the pure engine,
 * inside one transaction with the inbox record and the outgoing commands (outbox), then publishes.
 * Used by the api (start), the orchestrator function (replies) and the sweeper (timeouts).
 */
import type { Transaction } from '@google-cloud/firestore';
import { processOnce, type ConsumerDeps } from '../consumer';
import { PermanentError } from '../errors';
import type { Logger } from '../log';
import type { OutgoingMessage, ReplyMessage } from '../messages';
import type { SagaDoc, SagaRepository } from '../store/sagas';
import { commandMessage, type SagaBinding } from './binding';
import { decide, start } from './engine';
import { bindingFor } from './registry';
import type { Awaiting, EngineOptions, SagaEvent } from './types';

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
   * caller's outbox. (The api records it with its own inbox record.)
   */
  startInTx<D>(tx: Transaction, binding: SagaBinding<D>, sagaId: string, data: D): OutgoingMessage[] {
    const now = this.deps.now();
    const decision = start(binding.definition, sagaId, now, this.deps.engine);
    const doc: SagaDoc = {
      ...decision.state,
      data: data as Record<string, unknown>,
      createdAt: now,
      updatedAt: now,
    };
    this.deps.sagas.create(tx, doc);
    return decision.commands.map((c) => commandMessage(binding, sagaId, data, c));
  }

  async onReply(reply: ReplyMessage): Promise<{ duplicate: boolean }> {
    const event: SagaEvent = {
      kind: 'reply',
      step: reply.step,
      action: reply.action,
      attempt: reply.attempt,
      outcome: reply.outcome,
      reason: reply.reason,
    };
    return this.apply(reply.sagaId, reply.id, event);
  }

  /** Times out what the saga is awaiting, if it is still awaiting exactly that and is overdue. */
  async onTimeout(sagaId: string, awaiting: Awaiting): Promise<{ duplicate: boolean }> {
    const eventId = `timeout:${sagaId}:${awaiting.step}:${awaiting.action}:${awaiting.attempt}`;
    return this.apply(sagaId, eventId, { kind: 'timeout', ...awaiting });
  }

  private async apply(sagaId: string, eventId: string, event: SagaEvent): Promise<{ duplicate: boolean }> {
    const log = this.deps.log.child({ sagaId, orderId: sagaId, messageId: eventId });
    const sagaRef = this.deps.sagas.ref(sagaId);
    const result = await processOnce(this.deps, ORCHESTRATOR, eventId, [sagaRef], (tx, [snap]) => {
      const doc = this.deps.sagas.fromSnapshot(snap);
      if (!doc) throw new PermanentError(`no saga ${sagaId}`, 'UNKNOWN_SAGA');
      const binding = bindingFor(doc.type);
      if (!binding) throw new PermanentError(`unknown saga type ${doc.type}`, 'UNKNOWN_SAGA_TYPE');
      const now = this.deps.now();
      const decision = decide(doc, event, now, this.deps.engine);
      if (!decision.changed) return { outgoing: [], result: { ignored: decision.ignored ?? 'unchanged' } };
      const data = binding.dataSchema.parse(doc.data);
      this.deps.sagas.update(tx, {
        ...decision.state,
        data: doc.data,
        createdAt: doc.createdAt,
        updatedAt: now,
      });
      return {
        outgoing: decision.commands.map((c) => commandMessage(binding, sagaId, data, c)),
        result: { status: decision.state.status, currentStep: decision.state.currentStep },
      };
    });
    // Logged after the commit: the transaction callback may run more than once.
    if ('incomplete' in result) return { duplicate: false };
    if (result.duplicate) log.info('duplicate event', { event });
    else if (result.record.result && 'ignored' in result.record.result) {
      log.info('event ignored', { event, why: result.record.result.ignored });
    } else log.info('saga advanced', { event, ...result.record.result });
    return { duplicate: result.duplicate };
  }
}
