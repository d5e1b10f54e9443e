/** Binds a pure saga definition to messages: which topic each step's participant listens on, and its payload. */
import type { z } from 'zod';
import { commandId, type CommandMessage, type OutgoingMessage } from '../messages';
import type { SagaCommand, SagaDefinition } from './types';

export interface StepBinding<D> {
  topic: string;
  payload(data: D): Record<string, unknown>;
  orderingKey?(data: D): string;
}

export interface SagaBinding<D> {
  definition: SagaDefinition;
  dataSchema: z.ZodType<D>;
  steps: Record<string, StepBinding<D>>;
}

export function commandMessage<D>(
  binding: SagaBinding<D>,
  sagaId: string,
  data: D,
  cmd: SagaCommand,
  traceparent?: string,
): OutgoingMessage {
  const step = binding.steps[cmd.step];
  if (!step) throw new Error(`saga ${binding.definition.type} has no binding for step ${cmd.step}`);
  const id = commandId(sagaId, cmd.step, cmd.action, cmd.attempt);
  const message: CommandMessage = {
    v: 1,
    type: 'saga.command',
    id,
    sagaId,
    sagaType: binding.definition.type,
    step: cmd.step,
    action: cmd.action,
    attempt: cmd.attempt,
    payload: step.payload(data),
  };
  const attributes: Record<string, string> = {
    type: message.type,
    messageId: id,
    sagaId,
    step: cmd.step,
    action: cmd.action,
  };
  if (traceparent) attributes.traceparent = traceparent;
  const orderingKey = step.orderingKey?.(data);
  return { topic: step.topic, id, data: { ...message }, attributes, ...(orderingKey ? { orderingKey } : {}) };
}
