/** The one error body every HTTP answer of ours uses: {"error":{"code","message","details"}}. */
import type { Request, Response } from '@google-cloud/functions-framework';
import { z } from 'zod';

export const errorDetailSchema = z.object({
  path: z.string().describe('where the problem is: a dotted path into the body, a header or parameter name'),
  message: z.string(),
});
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('e.g. INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED'),
    message: z.string(),
    details: z.array(errorDetailSchema),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export function errorBody(code: string, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details } };
}

/**
 * Push endpoints only take Pub/Sub's POSTs; anything else (e.g. the harness's readiness probe) gets a 405 and
 * records nothing. Returns true when the request was refused.
 */
export function refuseNonPost(req: Request, res: Response): boolean {
  if (req.method === 'POST') return false;
  res.status(405).json(errorBody('METHOD_NOT_ALLOWED', 'push endpoints accept POST'));
  return true;
}
