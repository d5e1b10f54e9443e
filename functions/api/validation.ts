/** Request validation for the api (zod), and the contract's error body. */
import { z } from 'zod';
import { errorBody, type ErrorBody, type ErrorDetail } from '../../shared/http/error-body';
import { idSchema } from '../../shared/messages';
import { orderItemSchema } from '../../shared/saga/order-placement';

export const MAX_BODY_BYTES = 64 * 1024;

export const placeOrderSchema = z
  .object({
    customerId: idSchema,
    items: z
      .array(orderItemSchema)
      .min(1)
      .max(50)
      .superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((item, i) => {
          if (seen.has(item.sku))
            ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: `duplicate sku ${item.sku}` });
          seen.add(item.sku);
        });
      }),
    // A lone surrogate cannot be encoded as UTF-8: Firestore would refuse the write (a 503), so refuse it here.
    paymentToken: z
      .string()
      .min(1)
      .max(64)
      .regex(/^\P{Cs}*$/u, 'must be well-formed Unicode (no lone surrogates)'),
  })
  .strict();
export type PlaceOrderRequest = z.infer<typeof placeOrderSchema>;

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7E]{1,200}$/, 'must be 1-200 printable ASCII characters');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  body(): ErrorBody {
    return errorBody(this.code, this.message, this.details);
  }
}

export function invalid(message: string, details: ErrorDetail[] = []): ApiError {
  return new ApiError(400, 'INVALID_ARGUMENT', message, details);
}

export function zodDetails(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.slice(0, 20).map((i) => ({
    path: [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.') || '(body)',
    message: i.message,
  }));
}

export function parseId(value: string, what: string): string {
  const r = idSchema.safeParse(value);
  if (!r.success)
    throw invalid(`invalid ${what}`, [{ path: what, message: r.error.issues[0]?.message ?? 'invalid' }]);
  return r.data;
}
