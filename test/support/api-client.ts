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

export interface TripView {
  tripId: string;
  customerId: string;
  flight: { flightId: string; seats: number; priceCents: number };
  hotel: { hotelId: string; rooms: number; priceCents: number };
  car: { carClass: string; priceCents: number } | null;
  totalCents: number;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED';
  rejectionReason: string | null;
  saga: SagaView;
}

/** GET /sagas/{sagaId}: the saga of any type (also embedded in every saga's own view). */
export interface SagaView {
  sagaId: string;
  type: string;
  version: number;
  status: string;
  currentStep: string | null;
  currentSteps: string[];
  failureReason: string | null;
  failedReason: string | null;
  steps: { name: string; status: string; attempts: number }[];
  history: { at: string; type: string; step?: string; reason?: string }[];
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    urlPath: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult<T>> {
    const send = () =>
      fetch(`${this.baseUrl}${urlPath}`, {
        method,
        headers: opts.headers,
        body: opts.body,
        signal: AbortSignal.timeout(30_000),
      });
    let res: Response | undefined;
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await send();
        // A 503 from a CPU-starved api (through its front door): a GET is safe to send again.
        if (res.status === 503 && method === 'GET' && attempt < 5) {
          res = undefined;
          await new Promise((r) => setTimeout(r, 1000));
        }
      } catch (err) {
        // A kept-alive connection the server closed just as it was reused, or no answer in time (both seen on a
        // heavily loaded machine): a GET is safe to send again; anything else is the caller's to retry.
        if (method !== 'GET' || attempt >= 3) throw err;
      }
    }
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

  /**
   * Places an order the way a well-behaved client does under load: with an Idempotency-Key, and on
   * `429 RESOURCE_EXHAUSTED` it waits `Retry-After` seconds and retries with the same key. Returns the order id and
   * every 429 it was answered (their Retry-After values), or throws after `maxTries` or on any other answer.
   */
  async placeOrderPatiently(
    order: unknown,
    idempotencyKey: string,
    maxTries = 120,
  ): Promise<{ orderId: string; refusals: { retryAfterS: number; code: unknown }[] }> {
    const refusals: { retryAfterS: number; code: unknown }[] = [];
    for (let i = 0; i < maxTries; i++) {
      let r: HttpResult<{ orderId: string; status: string }>;
      try {
        r = await this.placeOrder(order, idempotencyKey);
      } catch (err) {
        // No answer (timeout, reset): the order may or may not exist — the same Idempotency-Key makes retrying safe.
        if (i + 1 >= maxTries) throw err;
        continue;
      }
      if (r.status === 202) return { orderId: r.body.orderId, refusals };
      if (r.status === 503 && i + 1 < maxTries) {
        // Contract §3: after a 5xx the client retries with the same Idempotency-Key (a CPU-starved api can answer
        // 503 through its front door); the order is created at most once.
        await new Promise((res) => setTimeout(res, 1000));
        continue;
      }
      if (r.status !== 429) throw new Error(`POST /orders → ${r.status} ${JSON.stringify(r.body)}`);
      const retryAfterS = Number(r.headers.get('retry-after'));
      refusals.push({ retryAfterS, code: (r.body as { error?: { code?: unknown } }).error?.code });
      await new Promise((res) => setTimeout(res, (Number.isFinite(retryAfterS) ? retryAfterS : 1) * 1000));
    }
    throw new Error(`POST /orders still refused after ${maxTries} tries`);
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

  placeTrip(trip: unknown, idempotencyKey?: string): Promise<HttpResult<{ tripId: string; status: string }>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    return this.request('POST', '/trips', { body: JSON.stringify(trip), headers });
  }

  async trip(tripId: string): Promise<TripView> {
    const r = await this.request<TripView>('GET', `/trips/${tripId}`);
    if (r.status !== 200) throw new Error(`GET /trips/${tripId} → ${r.status}`);
    return r.body;
  }

  /** Polls until the trip is CONFIRMED/REJECTED or its saga FAILED. */
  async waitTrip(tripId: string, timeoutMs = 90_000): Promise<TripView> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.trip(tripId);
      if (t.status !== 'PENDING' || t.saga.status === 'FAILED') return t;
      if (Date.now() > until)
        throw new Error(
          `trip ${tripId} still ${t.saga.status} at ${t.saga.currentSteps.join(',')} after ${timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async saga(sagaId: string): Promise<HttpResult<SagaView>> {
    return this.request<SagaView>('GET', `/sagas/${sagaId}`);
  }

  async seats(flightId: string): Promise<number> {
    const r = await this.request<{ seatsAvailable: number }>('GET', `/flights/${flightId}`);
    return r.body.seatsAvailable;
  }

  async rooms(hotelId: string): Promise<number> {
    const r = await this.request<{ roomsAvailable: number }>('GET', `/hotels/${hotelId}`);
    return r.body.roomsAvailable;
  }

  async cars(carClass: string): Promise<number> {
    const r = await this.request<{ available: number }>('GET', `/cars/${carClass}`);
    return r.body.available;
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
  flights?: { flightId: string; seats: number }[];
  hotels?: { hotelId: string; rooms: number }[];
  cars?: { carClass: string; available: number }[];
}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-seed-'));
  const file = path.join(dir, 'seed.json');
  fs.writeFileSync(file, JSON.stringify(seed));
  return file;
}
