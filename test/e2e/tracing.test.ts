/**
 * One trace per saga, on the whole stack (SAGA_TRACING=local): orders and trips placed with and without an incoming
 * W3C traceparent. A pull tap on every source topic sees every message; the functions' span files (the harness's
 * SAGA_TRACE_DIR) hold every span. Asserted: all messages of a saga carry its trace; the api's span is the root
 * (parented to the caller's span when one was sent); the orchestrator and every participant have handler,
 * transaction and publish spans in it; sagas do not share traces; a step the sweeper times out and a dead letter
 * redriven by the CLI stay in the saga's trace (each on a stack of its own: a short step timeout would end the
 * unavailable charge before its deliveries run out).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { createTapSubscription } from '../../emulator/provision';
import type { Stack } from '../../emulator/stack';
import { readTrace, type SpanRecord } from '../../shared/runtime/telemetry/span-files';
import { parseTraceparent } from '../../shared/runtime/telemetry/tracing';
import { DeadLetterStore, type DeadLetter } from '../../shared/runtime/store/dead-letters';
import { SOURCE_TOPICS, TOPICS } from '../../shared/topology';
import type { ApiClient } from '../support/api-client';
import { smallOrder, smallSeed, smallTrip } from '../support/small-seed';
import { startTestStack } from '../support/test-stack';

jest.setTimeout(240_000);

const seed = smallSeed;
const order = smallOrder;
const trip = smallTrip;
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRIP_CALLER_TRACE = '5cf92f3577b34da6a3ce929d0e0e4737';

interface Running {
  stack: Stack;
  api: ApiClient;
  env: NodeJS.ProcessEnv;
  db: Firestore;
  /** Every message the tap saw: its topic and attributes. */
  seen: { topic: string; attributes: Record<string, string> }[];
}

/** A stack for the tests of one describe block (started before them, stopped after), with a tap on every topic. */
function useStack(prefix: string, extraEnv: NodeJS.ProcessEnv): Running {
  const running = { seen: [] } as unknown as Running;
  let pubsub: PubSub | undefined;
  let taps: Subscription[] = [];
  beforeAll(async () => {
    const started = await startTestStack(prefix, seed, { SAGA_TRACING: 'local', ...extraEnv });
    Object.assign(running, started);
    expect(running.stack.traceDir).not.toBeNull();
    pubsub = new PubSub({ projectId: running.stack.config.projectId });
    running.db = new Firestore({ projectId: running.stack.config.projectId });
    const client = pubsub;
    taps = await Promise.all(
      SOURCE_TOPICS.map((topic) => createTapSubscription(topic, `tracing-tap-${topic}`, client)),
    );
    taps.forEach((sub, i) =>
      sub.on('message', (m: Message) => {
        m.ack();
        running.seen.push({ topic: SOURCE_TOPICS[i]!, attributes: { ...m.attributes } });
      }),
    );
  }, 180_000);
  afterAll(async () => {
    await Promise.all(taps.map((t) => t.close()));
    await pubsub?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
    await running.db?.terminate();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
    await running.stack?.stop();
  });
  return running;
}

async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 120_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const spansOf = (r: Running, traceId: string): SpanRecord[] => readTrace(r.stack.traceDir!, traceId);

async function traceIdOf(r0: Running, sagaId: string): Promise<string> {
  const r = await r0.api.saga(sagaId);
  expect(r.status).toBe(200);
  const traceId = (r.body as unknown as { traceId: string | null }).traceId;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  return traceId!;
}

/** The trace ids the tapped messages of a saga carry (one per message). */
const messageTraces = (r: Running, sagaId: string): (string | null)[] =>
  r.seen
    .filter((m) => m.attributes.sagaId === sagaId)
    .map((m) => parseTraceparent(m.attributes.traceparent)?.traceId ?? null);

/** The span's ancestors in its trace (nearest first). */
function ancestors(span: SpanRecord, spans: readonly SpanRecord[]): SpanRecord[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const out: SpanRecord[] = [];
  for (let p = byId.get(span.parentSpanId ?? ''); p; p = byId.get(p.parentSpanId ?? '')) out.push(p);
  return out;
}

/** A function's delivery spans, with a transaction and a publish span beneath them: what it is missing. */
function missingSpans(spans: readonly SpanRecord[], service: string, topic: string): string[] {
  const handlers = spans.filter(
    (s) => s.service === service && s.kind === 'CONSUMER' && s.name === `process ${topic}`,
  );
  if (handlers.length === 0) return [`${service}: process ${topic}`];
  const under = (name: (n: string) => boolean): boolean =>
    spans.some((s) => name(s.name) && ancestors(s, spans).some((a) => handlers.includes(a)));
  return [
    ...(under((n) => n === 'firestore.transaction') ? [] : [`${service}: firestore.transaction`]),
    ...(under((n) => n.endsWith(' publish')) ? [] : [`${service}: publish`]),
  ];
}

interface Placed {
  sagaId: string;
  traceId: string;
  incoming: string | null;
}

const placed: Record<'orderIn' | 'orderNew' | 'tripIn' | 'tripNew', Placed> = {} as Record<
  'orderIn' | 'orderNew' | 'tripIn' | 'tripNew',
  Placed
>;

describe('sagas placed with and without a caller trace', () => {
  const r = useStack('e2e-tracing', {});

  test('every message of a saga carries its trace; the api span is the root; each consumer has its spans', async () => {
    const post = async (what: 'orders' | 'trips', body: unknown, traceparent?: string): Promise<string> => {
      const res = await r.api.request<{ orderId?: string; tripId?: string }>('POST', `/${what}`, {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(traceparent ? { traceparent } : {}) },
      });
      expect(res.status).toBe(202);
      return (res.body.orderId ?? res.body.tripId)!;
    };
    const orderIn = await post('orders', order('tok_visa'), `00-${CALLER_TRACE}-${CALLER_SPAN}-01`);
    const orderNew = await post('orders', order('tok_visa'));
    const tripIn = await post('trips', trip, `00-${TRIP_CALLER_TRACE}-${CALLER_SPAN}-01`);
    const tripNew = await post('trips', trip);
    expect((await r.api.waitTerminal(orderIn)).status).toBe('APPROVED');
    expect((await r.api.waitTerminal(orderNew)).status).toBe('APPROVED');
    expect((await r.api.waitTrip(tripIn)).status).toBe('CONFIRMED');
    expect((await r.api.waitTrip(tripNew)).status).toBe('CONFIRMED');
    placed.orderIn = { sagaId: orderIn, traceId: await traceIdOf(r, orderIn), incoming: CALLER_SPAN };
    placed.orderNew = { sagaId: orderNew, traceId: await traceIdOf(r, orderNew), incoming: null };
    placed.tripIn = { sagaId: tripIn, traceId: await traceIdOf(r, tripIn), incoming: CALLER_SPAN };
    placed.tripNew = { sagaId: tripNew, traceId: await traceIdOf(r, tripNew), incoming: null };
    // The caller's trace is continued; without one, a new trace per saga.
    expect(placed.orderIn.traceId).toBe(CALLER_TRACE);
    expect(placed.tripIn.traceId).toBe(TRIP_CALLER_TRACE);
    const ids = Object.values(placed).map((p) => p.traceId);
    expect(new Set(ids).size).toBe(ids.length);

    // Every message of a saga (commands and replies; order: 3 steps × 2, trip v2: 4 steps × 2) carries its trace.
    for (const [name, p] of Object.entries(placed)) {
      const expected = name.startsWith('order') ? 6 : 8;
      const traces = await waitFor(`the tapped messages of ${name}`, () => {
        const t = messageTraces(r, p.sagaId);
        return t.length >= expected ? t : undefined;
      });
      expect({ name, traces: [...new Set(traces)] }).toEqual({ name, traces: [p.traceId] });
    }

    for (const [name, p] of Object.entries(placed)) {
      const isOrder = name.startsWith('order');
      const participants: [string, string][] = isOrder
        ? [
            ['credit', 'credit-commands'],
            ['inventory', 'inventory-commands'],
            ['payment', 'payment-commands'],
          ]
        : [
            ['flights', 'flight-commands'],
            ['hotels', 'hotel-commands'],
            ['cars', 'car-commands'],
            ['payment', 'payment-commands'],
          ];
      // Spans are written as they end: the orchestrator's last one may lag the saga's end by a moment.
      const spans = await waitFor(`the spans of ${name}`, () => {
        const s = spansOf(r, p.traceId);
        const orchestrated = s.filter((x) => x.service === 'orchestrator' && x.kind === 'CONSUMER').length;
        return orchestrated >= participants.length ? s : undefined;
      });
      // One root: the api's request span (its parent is the caller's span, which is not recorded here).
      const byId = new Set(spans.map((s) => s.spanId));
      const roots = spans.filter((s) => s.parentSpanId === null || !byId.has(s.parentSpanId));
      expect(roots.map((r) => [r.service, r.name, r.kind, r.parentSpanId])).toEqual([
        ['api', isOrder ? 'POST /orders' : 'POST /trips', 'SERVER', p.incoming],
      ]);
      expect(spans[0]).toBe(roots[0]);
      const missing = [['orchestrator', TOPICS.sagaReplies] as const, ...participants].flatMap(
        ([service, topic]) => missingSpans(spans, service, topic),
      );
      expect({ name, missing }).toEqual({ name, missing: [] });
      // The api's own transaction and publish of the first command.
      const api = roots[0]!;
      expect(spans.filter((s) => s.parentSpanId === api.spanId).map((s) => s.name)).toEqual(
        expect.arrayContaining([
          'firestore.transaction',
          `${isOrder ? 'credit' : 'flight'}-commands publish`,
        ]),
      );
    }
  });
});

describe('a swept timeout (SAGA_STEP_TIMEOUT_MS=3000)', () => {
  // The unavailable charge is taken (claimed) and never answered: the sweeper times it out after 3 s.
  const r = useStack('e2e-tracing-swept', { SAGA_STEP_TIMEOUT_MS: '3000', SAGA_SWEEP_INTERVAL_MS: '250' });

  test('the sweeper works in the saga trace, under its root span; the compensations it issues carry the trace', async () => {
    const placedOrder = await r.api.placeOrder(order('tok_unavailable'));
    expect(placedOrder.status).toBe(202);
    const sagaId = placedOrder.body.orderId;
    const traceId = await traceIdOf(r, sagaId);
    const swept = await waitFor('the sweeper timing the charge out', () =>
      spansOf(r, traceId).find((s) => s.service === 'sweeper' && s.name === 'sweeper settle payment forward'),
    );
    const root = spansOf(r, traceId)[0]!;
    expect(root).toMatchObject({ service: 'api', name: 'POST /orders', parentSpanId: null });
    expect(swept.parentSpanId).toBe(root.spanId); // the saga's root span, kept on the saga document
    expect((await r.api.waitTerminal(sagaId)).rejectionReason).toBe('STEP_TIMEOUT');
    const compensations = await waitFor('the compensations the timeout issued', () => {
      const c = r.seen.filter((m) => m.attributes.sagaId === sagaId && m.attributes.action === 'compensate');
      return c.length >= 3 ? c : undefined;
    });
    for (const c of compensations) expect(parseTraceparent(c.attributes.traceparent)?.traceId).toBe(traceId);
    expect(new Set(messageTraces(r, sagaId))).toEqual(new Set([traceId]));
  });
});

describe('a dead letter, redriven by the CLI', () => {
  // The unavailable charge's 5 deliveries (1-2 s apart) run out long before its step would time out.
  const r = useStack('e2e-tracing-dlq', {
    SAGA_STEP_TIMEOUT_MS: '300000',
    SAGA_SWEEP_INTERVAL_MS: '250',
    SAGA_RETRY_MIN_BACKOFF_S: '1',
    SAGA_RETRY_MAX_BACKOFF_S: '2',
  });

  test('the dead letter, the step it ends, the redrive and the redriven delivery are in the saga trace', async () => {
    const placedOrder = await r.api.placeOrder(order('tok_unavailable'));
    expect(placedOrder.status).toBe(202);
    const sagaId = placedOrder.body.orderId;
    const traceId = await traceIdOf(r, sagaId);
    const store = new DeadLetterStore(r.db);
    const dl = await waitFor('the charge dead letter', async () =>
      (await store.ofSaga(sagaId, 10)).find(
        (d: DeadLetter) => d.sourceTopic === TOPICS.paymentCommands && d.reason === 'MAX_DELIVERY_ATTEMPTS',
      ),
    );
    await waitFor('the dead letter span', () =>
      spansOf(r, traceId).find((s) => s.service === 'deadLetters' && s.name === 'process dead letter'),
    );
    // The dead letter ended the step: the compensations it issued carry the saga's trace.
    expect((await r.api.waitTerminal(sagaId)).rejectionReason).toBe('STEP_TIMEOUT');
    expect(new Set(messageTraces(r, sagaId))).toEqual(new Set([traceId]));

    // Redriven by the CLI, whose spans go to the stack's trace directory too.
    const cli = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), 'dlq', 'redrive', dl.id, '--json'],
      {
        env: { ...process.env, ...r.env, SAGA_TRACE_DIR: r.stack.traceDir! },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(cli.status).toBe(0);
    const redrive = await waitFor('the redrive span', () =>
      spansOf(r, traceId).find((s) => s.service === 'cli' && s.name === `redrive ${TOPICS.paymentCommands}`),
    );
    const redriven = await waitFor('the redriven delivery', () =>
      spansOf(r, traceId).find(
        (s) => s.service === 'payment' && s.attributes['saga.redriven_from'] === dl.id,
      ),
    );
    expect(redriven.parentSpanId).toBe(redrive.spanId);
    const tapped = await waitFor('the redriven message on the tap', () =>
      r.seen.find((m) => m.attributes.redrivenFrom === dl.id),
    );
    expect(parseTraceparent(tapped.attributes.traceparent)?.traceId).toBe(traceId);
  });
});
