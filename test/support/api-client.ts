/** A small HTTP client for the api function, plus waiting helpers, for end-to-end tests and the benchmark. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface OrderView {
  orderId: string;
  customerId: string;
  totalCents: number;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  rejectionReason: string | null;
  saga: {
    status: string;
    currentStep: string | null;
    failureReason: string | null;
    steps: { name: string; status: string; attempts: number }[];
    history: { at: string; type: string; step?: string; reason?: string }[];
  };
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    urlPath: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult<T>> {
    const res = await fetch(`${this.baseUrl}${urlPath}`, {
      method,
      headers: opts.headers,
      body: opts.body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      // plain text (e.g. the framework's own 400)
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  placeOrder(
    order: unknown,
    idempotencyKey?: string,
  ): Promise<HttpResult<{ orderId: string; status: string }>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    return this.request('POST', '/orders', { body: JSON.stringify(order), headers });
  }

  async order(orderId: string): Promise<OrderView> {
    const r = await this.request<OrderView>('GET', `/orders/${orderId}`);
    if (r.status !== 200) throw new Error(`GET /orders/${orderId} → ${r.status}`);
    return r.body;
  }

  /** Polls until the order is APPROVED/REJECTED or its saga FAILED. */
  async waitTerminal(orderId: string, timeoutMs = 90_000): Promise<OrderView> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const o = await this.order(orderId);
      if (o.status !== 'PENDING' || o.saga.status === 'FAILED') return o;
      if (Date.now() > until)
        throw new Error(
          `order ${orderId} still ${o.saga.status} at ${o.saga.currentStep} after ${timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async creditUsed(customerId: string): Promise<number> {
    const r = await this.request<{ creditUsedCents: number }>('GET', `/customers/${customerId}`);
    return r.body.creditUsedCents;
  }

  async stock(sku: string): Promise<number> {
    const r = await this.request<{ available: number }>('GET', `/inventory/${sku}`);
    return r.body.available;
  }

  async payment(orderId: string): Promise<{ status: string; amountCents: number }> {
    return (await this.request<{ status: string; amountCents: number }>('GET', `/payments/${orderId}`)).body;
  }
}

/** Writes a seed file (contract §4) to a temporary directory and returns its path. */
export function writeSeedFile(seed: {
  customers: { customerId: string; creditLimitCents: number }[];
  products: { sku: string; available: number }[];
}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-seed-'));
  const file = path.join(dir, 'seed.json');
  fs.writeFileSync(file, JSON.stringify(seed));
  return file;
}
