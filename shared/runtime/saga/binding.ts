/** Turns an engine command into the message for its step's participant (topic, payload, ordering key). */
import { commandId, MESSAGE_VERSION, type CommandMessage, type OutgoingMessage } from '../messages';
import type { SagaCommand } from '../engine/types';
import type { AnySagaBinding } from '../registry';

export function commandMessage(
  binding: AnySagaBinding,
  sagaId: string,
  data: unknown,
  cmd: SagaCommand,
  traceparent?: string,
): OutgoingMessage {
  const step = binding.steps[cmd.step];
  if (!step) throw new Error(`saga ${binding.definition.type} has no binding for step ${cmd.step}`);
  const id = commandId(sagaId, cmd.step, cmd.action, cmd.attempt);
  const message: CommandMessage = {
    v: MESSAGE_VERSION,
    type: 'saga.command',
    id,
    sagaId,
    sagaType: binding.definition.type,
    step: cmd.step,
    action: cmd.action,
    attempt: cmd.attempt,
    payload: payloadOf(binding, cmd.step, data),
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
  // Also as an attribute: a push body carries no ordering key on the emulator; a dead letter keeps it for redrive.
  if (orderingKey) attributes.orderingKey = orderingKey;
  return {
    topic: step.participant.commandTopic,
    id,
    data: { ...message },
    attributes,
    ...(orderingKey ? { orderingKey } : {}),
  };
}

/** The payload a step's command carries for this saga data (a JSON object: what its participant's schema parses). */
export function payloadOf(binding: AnySagaBinding, step: string, data: unknown): Record<string, unknown> {
  const s = binding.steps[step];
  if (!s) throw new Error(`saga ${binding.definition.type} has no binding for step ${step}`);
  const payload = s.participant.payloadSchema.parse(s.payload(data));
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new Error(`payload of ${binding.definition.type}/${step} is not an object`);
  }
  return { ...payload };
}

/** The steps of a saga that do not apply to this data (declared `when` is false): they are SKIPPED. */
export function skippedSteps(binding: AnySagaBinding, data: unknown): string[] {
  return binding.definition.steps.filter((name) => binding.steps[name]?.when?.(data) === false);
}
