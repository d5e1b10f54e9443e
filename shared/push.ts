/**
 * Pub/Sub push envelope parsing. The emulator omits deliveryAttempt, orderingKey and auth: all optional.
 */
import { z } from 'zod';
import { PermanentError } from './errors';

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
  return {
    text: Buffer.from(m.data ?? '', 'base64').toString('utf8'),
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
  let json: unknown;
  try {
    json = JSON.parse(push.text);
  } catch (err) {
    throw new PermanentError('message data is not JSON', 'NOT_JSON', { cause: err });
  }
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
