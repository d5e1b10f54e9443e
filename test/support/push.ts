/** Calls an HTTP function in-process with a minimal request/response pair (a push delivery, or any body). */
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';

export interface Answer {
  status: number;
  body: unknown;
}

export async function invoke(fn: HttpFunction, body: unknown, method = 'POST'): Promise<Answer> {
  const answer: Answer = { status: 0, body: undefined };
  const res = {
    status(code: number) {
      answer.status = code;
      return res;
    },
    json(value: unknown) {
      answer.body = value;
      return res;
    },
    end() {
      return res;
    },
  };
  await fn({ method, body, headers: {} } as unknown as Request, res as unknown as Response);
  return answer;
}

/** A push envelope as Pub/Sub posts it: data base64-encoded (from text, or raw bytes). */
export function envelope(
  data: string | Buffer,
  attributes: Record<string, string> = {},
  messageId = `m-${Math.random().toString(36).slice(2)}`,
): Record<string, unknown> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    message: { data: bytes.toString('base64'), attributes, messageId },
    subscription: 'projects/p/subscriptions/test',
  };
}
