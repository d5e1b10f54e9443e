/**
 * Message schemas (versioned, zod). Every message carries an application id used for deduplication
 * (never the Pub/Sub messageId, which changes on dead-lettering and redrive), and its schema version `v`: a consumer
 * reads every version it knows (MessageVersions) and holds a newer one for code that knows it (ARCHITECTURE.md).
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

/** The version this code's producers write. */
export const MESSAGE_VERSION = 1;

/**
 * The versions of one kind of message a consumer reads, each with its schema. Every schema parses to the shape the
 * code works with (the current version's): an older version is upgraded as it is parsed.
 */
export interface MessageVersions<M> {
  readonly schemas: ReadonlyMap<number, z.ZodType<M>>;
}

export const COMMAND_VERSIONS: MessageVersions<CommandMessage> = { schemas: new Map([[1, commandSchema]]) };
export const REPLY_VERSIONS: MessageVersions<ReplyMessage> = { schemas: new Map([[1, replySchema]]) };

/** The versions a set reads, ascending. */
export function knownVersions(versions: MessageVersions<unknown>): number[] {
  return [...versions.schemas.keys()].sort((a, b) => a - b);
}

/** The `v` of a message (a positive integer), or null when it has none. */
export function versionField(json: unknown): number | null {
  const v = typeof json === 'object' && json !== null && 'v' in json ? json.v : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : null;
}

/**
 * The message's version when it is newer than every version the set reads (the message is not poison: code that
 * knows it can process it), else null.
 */
export function newerVersion(json: unknown, versions: MessageVersions<unknown>): number | null {
  const v = versionField(json);
  return v !== null && v > Math.max(...versions.schemas.keys()) ? v : null;
}

/** The schema a message is validated with: its own version's, else the newest (which then names what is wrong). */
export function schemaFor<M>(json: unknown, versions: MessageVersions<M>): z.ZodType<M> {
  const v = versionField(json);
  const own = v === null ? undefined : versions.schemas.get(v);
  return own ?? versions.schemas.get(Math.max(...versions.schemas.keys()))!;
}

export const tickSchema = z.object({ type: z.literal('saga.tick'), at: z.string().optional() }).strict();
export type TickMessage = z.infer<typeof tickSchema>;

export function commandId(sagaId: string, step: string, action: string, attempt: number): string {
  return `${sagaId}:${step}:${action}:${attempt}`;
}

/** The id a reply to `commandId` must have. */
export function replyId(commandMessageId: string): string {
  return `${commandMessageId}:reply`;
}

/**
 * Why a saga message's id is not the one its content determines (null when it is). Ids are inbox keys: an id not
 * bound to its content could take the inbox slot of another message (e.g. a reply named like the sweeper's timeout
 * event, which would then never fire).
 */
export function identityMismatch(m: CommandMessage | ReplyMessage): string | null {
  const cmdId = commandId(m.sagaId, m.step, m.action, m.attempt);
  const expected = m.type === 'saga.command' ? cmdId : replyId(cmdId);
  return m.id === expected
    ? null
    : `message id ${JSON.stringify(m.id)} does not match its content (${expected})`;
}

export function replyTo(
  cmd: CommandMessage,
  outcome: ReplyMessage['outcome'],
  reason?: string,
): ReplyMessage {
  const reply: ReplyMessage = {
    v: MESSAGE_VERSION,
    type: 'saga.reply',
    id: replyId(cmd.id),
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
