/** The one error body every HTTP answer of ours uses: {"error":{"code","message","details"}}. */
import type { Request, Response } from '@google-cloud/functions-framework';

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

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
