/**
 * Pub/Sub push envelope parsing. The emulator omits deliveryAttempt, orderingKey and auth: all optional.
 */
import { z } from 'zod';
import { PermanentError, UnsupportedVersionError } from './errors';
import {
  COMMAND_VERSIONS,
  identityMismatch,
  knownVersions,
  newerVersion,
  REPLY_VERSIONS,
  schemaFor,
  type CommandMessage,
  type MessageVersions,
  type ReplyMessage,
} from './messages';

export const pushEnvelopeSchema = z.object({
  message: z.object({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
    message_id: z.string().optional(),
    publishTime: z.string().optional(),
    orderingKey: z.string().optional(),
  }),
  subscription: z.string().optional(),
  deliveryAttempt: z.number().int().optional(),
});

export interface PushMessage {
  /** Decoded message data (utf8). */
  text: string;
  /** The message data as published (what `text` decodes; invalid UTF-8 survives only here). */
  bytes: Buffer;
  attributes: Record<string, string>;
  pubsubMessageId: string | null;
  subscription: string | null;
  deliveryAttempt: number | null;
  publishTime: string | null;
  orderingKey: string | null;
}

/** Throws PermanentError when the request is not a push envelope. */
export function parsePushEnvelope(body: unknown): PushMessage {
  const parsed = pushEnvelopeSchema.safeParse(body);
  if (!parsed.success) {
    throw new PermanentError(
      `not a Pub/Sub push envelope: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      'BAD_ENVELOPE',
    );
  }
  const m = parsed.data.message;
  const bytes = Buffer.from(m.data ?? '', 'base64');
  return {
    text: bytes.toString('utf8'),
    bytes,
    attributes: m.attributes ?? {},
    pubsubMessageId: m.messageId ?? m.message_id ?? null,
    subscription: parsed.data.subscription ?? null,
    deliveryAttempt: parsed.data.deliveryAttempt ?? null,
    publishTime: m.publishTime ?? null,
    orderingKey: m.orderingKey ?? null,
  };
}

/** Parses message text as JSON and validates it; PermanentError (poison) when it cannot be processed. */
export function parseMessage<T>(push: PushMessage, schema: z.ZodType<T>): T {
  return validate(jsonOf(push), schema);
}

/**
 * Parses a versioned message: its `v` first, then that version's schema. A version newer than every one `versions`
 * reads is not poison: UnsupportedVersionError (retried, then dead-lettered UNSUPPORTED_VERSION, redriven once
 * code that knows it runs). Anything else that fails is PermanentError, as parseMessage.
 */
export function parseVersioned<M>(push: PushMessage, versions: MessageVersions<M>): M {
  const json = jsonOf(push);
  const newer = newerVersion(json, versions);
  if (newer !== null) throw new UnsupportedVersionError(newer, knownVersions(versions));
  return validate(json, schemaFor(json, versions));
}

function jsonOf(push: PushMessage): unknown {
  try {
    return JSON.parse(push.text) as unknown;
  } catch (err) {
    throw new PermanentError('message data is not JSON', 'NOT_JSON', { cause: err });
  }
}

function validate<T>(json: unknown, schema: z.ZodType<T>): T {
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (result.error.issues.some((i) => i.path.length === 1 && i.path[0] === 'type')) {
      const type = (json as { type?: unknown } | null)?.type;
      throw new PermanentError(`unknown message type ${JSON.stringify(type ?? null)}`, 'UNKNOWN_TYPE');
    }
    throw new PermanentError(
      `message fails its schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      'SCHEMA_VIOLATION',
    );
  }
  return result.data;
}

/** A saga command of a version `versions` reads, whose id matches its content; PermanentError ID_MISMATCH otherwise. */
export function parseCommand(
  push: PushMessage,
  versions: MessageVersions<CommandMessage> = COMMAND_VERSIONS,
): CommandMessage {
  return checked(parseVersioned(push, versions));
}

/** A saga reply of a version `versions` reads, whose id matches its content; PermanentError ID_MISMATCH otherwise. */
export function parseReply(
  push: PushMessage,
  versions: MessageVersions<ReplyMessage> = REPLY_VERSIONS,
): ReplyMessage {
  return checked(parseVersioned(push, versions));
}

function checked<M extends CommandMessage | ReplyMessage>(m: M): M {
  const mismatch = identityMismatch(m);
  if (mismatch) throw new PermanentError(mismatch, 'ID_MISMATCH');
  return m;
}
