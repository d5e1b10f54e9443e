/**
 * Message schemas (versioned, zod). Every message carries an application id used for deduplication
 * (never the Pub/Sub messageId, which changes on dead-lettering and redrive).
 *
 * Ids are deterministic, so a replay of any message is recognised:
 *   command: `<sagaId>:<step>:<action>:<attempt>`   reply: `<commandId>:reply`
 */
import { z } from 'zod';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must be 1-64 characters of [A-Za-z0-9_-]');
/** Application message ids: ids joined by ':' */
export const messageIdSchema = z.string().regex(/^[A-Za-z0-9_:-]{1,300}$/, 'invalid message id');

export const stepActionSchema = z.enum(['forward', 'compensate']);

/** What every saga message (command or reply) says about the step it belongs to. */
const stepMessageFields = {
  v: z.literal(1),
  id: messageIdSchema,
  sagaId: idSchema,
  sagaType: z.string().min(1).max(64),
  step: z.string().min(1).max(64),
  action: stepActionSchema,
  attempt: z.number().int().min(1).max(1000),
};

export const commandSchema = z
  .object({
    ...stepMessageFields,
    type: z.literal('saga.command'),
    payload: z.record(z.string(), z.unknown()),
  })
  .strict();
export type CommandMessage = z.infer<typeof commandSchema>;

export const replySchema = z
  .object({
    ...stepMessageFields,
    type: z.literal('saga.reply'),
    outcome: z.enum(['SUCCEEDED', 'FAILED', 'REFUSED']),
    reason: z.string().max(200).optional(),
  })
  .strict();
export type ReplyMessage = z.infer<typeof replySchema>;

export const tickSchema = z.object({ type: z.literal('saga.tick'), at: z.string().optional() }).strict();
export type TickMessage = z.infer<typeof tickSchema>;

export function commandId(sagaId: string, step: string, action: string, attempt: number): string {
  return `${sagaId}:${step}:${action}:${attempt}`;
}

export function replyTo(
  cmd: CommandMessage,
  outcome: ReplyMessage['outcome'],
  reason?: string,
): ReplyMessage {
  const reply: ReplyMessage = {
    v: 1,
    type: 'saga.reply',
    id: `${cmd.id}:reply`,
    sagaId: cmd.sagaId,
    sagaType: cmd.sagaType,
    step: cmd.step,
    action: cmd.action,
    attempt: cmd.attempt,
    outcome,
  };
  if (reason !== undefined) reply.reason = reason;
  return reply;
}

/** Business payloads of the order-placement participants. */
export const itemSchema = z
  .object({
    sku: idSchema,
    quantity: z.number().int().min(1).max(1000),
  })
  .strict();

export const creditPayloadSchema = z
  .object({ orderId: idSchema, customerId: idSchema, amountCents: z.number().int().min(0) })
  .strict();
export type CreditPayload = z.infer<typeof creditPayloadSchema>;

export const inventoryPayloadSchema = z
  .object({ orderId: idSchema, items: z.array(itemSchema).min(1).max(50) })
  .strict();
export type InventoryPayload = z.infer<typeof inventoryPayloadSchema>;

export const paymentPayloadSchema = z
  .object({
    orderId: idSchema,
    amountCents: z.number().int().min(0),
    paymentToken: z.string().min(1).max(64),
  })
  .strict();
export type PaymentPayload = z.infer<typeof paymentPayloadSchema>;

/** Attributes every published message carries (for routing in logs, dead-letter records and tracing). */
export interface MessageAttributes {
  [key: string]: string;
}

/** A message to publish: recorded in the outbox inside the transaction, published after commit. */
export interface OutgoingMessage {
  topic: string;
  /** Application message id (dedupe key). */
  id: string;
  data: Record<string, unknown>;
  attributes: MessageAttributes;
  orderingKey?: string;
}
