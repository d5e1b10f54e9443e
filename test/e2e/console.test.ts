/**
 * The operator console (contract §9) in headless Chromium against a whole stack: an order and a trip in the list,
 * the type filter, find by id, the trip's steps on the timeline, a hostile payment token shown as text with no script
 * run, a real dead letter (a `tok_unavailable` charge) redriven from the page after the confirmation, a FAILED saga
 * with what to do, and 4xx pages for bad input. Screenshots go to a temporary directory, or to docs/console/ with
 * SAGA_CONSOLE_SCREENSHOTS=1 (the README's images).
 *
 * Needs Debian's chromium (`apt-get install chromium`) at /usr/bin/chromium, or its path in SAGA_CHROMIUM.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Stack } from '../../emulator/stack';
import { decide, start } from '../../shared/runtime/engine/engine';
import { commandMessage } from '../../shared/runtime/saga/binding';
import type { EngineOptions } from '../../shared/runtime/engine/types';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import { DeadLetterStore, type DeadLetter } from '../../shared/runtime/store/dead-letters';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { orderApi } from '../../shared/sagas/order-placement/api';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import { TOPICS } from '../../shared/topology';
import type { ApiClient } from '../support/api-client';
import { smallOrder, smallSeed, smallTrip } from '../support/small-seed';
import { startTestStack } from '../support/test-stack';

const CHROMIUM = process.env.SAGA_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS =
  process.env.SAGA_CONSOLE_SCREENSHOTS === '1'
    ? path.resolve(__dirname, '..', '..', 'docs', 'console')
    : mkdtempSync(path.join(os.tmpdir(), 'console-shots-'));
// paymentToken is any text of 1-64 characters: markup that would run if it were not escaped.
const HOSTILE = '<img src=x onerror=__pwned=1><script>__pwned=2</script>';

const seed = smallSeed;
const order = smallOrder;
const trip = smallTrip;

let stack: Stack;
let api: ApiClient;
let db: Firestore;
let browser: Browser;
let page: Page;
let unavailableOrderId: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless Chromium not found at ${CHROMIUM}: the console's browser test needs Debian's chromium ` +
        '(apt-get install -y --no-install-recommends chromium), or set SAGA_CHROMIUM to a Chromium binary',
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  ({ stack, api } = await startTestStack('e2e-console', seed, {
    // A dead letter within ~15 s (5 deliveries ~1-3 s apart); the step timeout is far longer than the test.
    SAGA_STEP_TIMEOUT_MS: '300000',
    SAGA_SWEEP_INTERVAL_MS: '250',
    SAGA_RETRY_MIN_BACKOFF_S: '1',
    SAGA_RETRY_MAX_BACKOFF_S: '2',
  }));
  db = new Firestore({ projectId: stack.config.projectId });
  // Its charge is dead-lettered while the other tests run.
  unavailableOrderId = (await api.placeOrder(order('tok_unavailable'))).body.orderId;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 720 });
}, 180_000);

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
  await db?.terminate();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
  await stack?.stop();
});

const url = (p: string): string => new URL(p, stack.consoleUrl).toString();

async function open(p: string): Promise<number> {
  const res = await page.goto(url(p), { waitUntil: 'load' });
  return res?.status() ?? 0;
}

/** The top of the page (at most 720 px high), 1100 px wide: small PNGs for the README. */
async function shot(name: string): Promise<void> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}.png`),
    clip: { x: 0, y: 0, width: 1100, height: Math.min(height, 720) },
  });
}

const listedIds = (): Promise<string[]> =>
  page.$$eval('table.sagas tbody tr', (rows) => rows.map((r) => r.getAttribute('data-saga-id') ?? ''));

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

let orderId: string;
let hostileId: string;
let tripId: string;

test('the list shows sagas of every type, newest first; the type filter and find by id work', async () => {
  orderId = (await api.placeOrder(order('tok_visa'))).body.orderId;
  tripId = (await api.placeTrip(trip)).body.tripId;
  hostileId = (await api.placeOrder(order(HOSTILE))).body.orderId;
  expect([orderId, tripId, hostileId].every((id) => typeof id === 'string')).toBe(true);
  expect((await api.waitTerminal(orderId)).status).toBe('APPROVED');
  expect((await api.waitTrip(tripId)).status).toBe('CONFIRMED');
  expect((await api.waitTerminal(hostileId)).status).toBe('APPROVED');

  expect(await open('/')).toBe(200);
  const ids = await listedIds();
  expect(ids).toEqual(expect.arrayContaining([orderId, tripId, hostileId, unavailableOrderId]));
  // Newest first.
  expect(ids.indexOf(hostileId)).toBeLessThan(ids.indexOf(tripId));
  expect(ids.indexOf(tripId)).toBeLessThan(ids.indexOf(orderId));
  const row = (id: string) =>
    page.$eval(`tr[data-saga-id="${id}"]`, (tr) =>
      Array.from(tr.querySelectorAll('td')).map((td) => td.textContent.trim()),
    );
  expect(await row(tripId)).toEqual([
    tripId,
    'trip-booking',
    '2',
    expect.any(String),
    'CONFIRMED',
    'SUCCEEDED',
    '-',
    '',
  ]);
  expect((await row(orderId)).slice(1, 6)).toEqual([
    'order-placement',
    '1',
    expect.any(String),
    'APPROVED',
    'SUCCEEDED',
  ]);
  await shot('sagas');

  // Filter by type through the form.
  await page.select('select[name="type"]', 'trip-booking');
  await Promise.all([page.waitForNavigation(), page.click('form.filters button[type="submit"]')]);
  expect(new URL(page.url()).searchParams.get('type')).toBe('trip-booking');
  const trips = await page.$$eval('table.sagas tbody tr', (rows) =>
    rows.map((r) => r.getAttribute('data-type')),
  );
  expect(trips.length).toBeGreaterThan(0);
  expect(new Set(trips)).toEqual(new Set(['trip-booking']));
  expect(await listedIds()).toContain(tripId);
  expect(await listedIds()).not.toContain(orderId);

  // Paging: one per page, the next page's link continues after it.
  expect(await open('/?type=order-placement&limit=1')).toBe(200);
  const first = await listedIds();
  expect(first).toHaveLength(1);
  await Promise.all([page.waitForNavigation(), page.click('a.next')]);
  const second = await listedIds();
  expect(second).toHaveLength(1);
  expect(second[0]).not.toBe(first[0]);

  // Find by id (the header's search box).
  await page.type('header input[name="id"]', orderId);
  await Promise.all([page.waitForNavigation(), page.click('header button[type="submit"]')]);
  expect(new URL(page.url()).pathname).toBe(`/sagas/${orderId}`);
});

test("the trip's page shows its steps on a timeline, one lane per step, bars in order, with steps and history", async () => {
  expect(await open(`/sagas/${tripId}`)).toBe(200);
  const lanes = await page.$$eval('.timeline .lane', (ls) =>
    ls.map((l) => ({
      step: l.getAttribute('data-step'),
      status: l.getAttribute('data-status'),
      bars: Array.from(l.querySelectorAll('rect.bar')).map((b) => ({
        kind: b.getAttribute('data-kind'),
        outcome: b.getAttribute('data-outcome'),
        start: Number(b.getAttribute('data-start-ms')),
        end: Number(b.getAttribute('data-end-ms')),
        x: parseFloat(b.getAttribute('x') ?? 'NaN'),
        width: parseFloat(b.getAttribute('width') ?? 'NaN'),
      })),
    })),
  );
  expect(lanes.map((l) => [l.step, l.status])).toEqual([
    ['flight', 'SUCCEEDED'],
    ['hotel', 'SUCCEEDED'],
    ['car', 'SUCCEEDED'],
    ['payment', 'SUCCEEDED'],
  ]);
  for (const l of lanes) {
    expect(l.bars).toEqual([expect.objectContaining({ kind: 'forward', outcome: 'SUCCEEDED' })]);
    expect(l.bars[0]!.width).toBeGreaterThan(0);
  }
  // Version 2: flight, then hotel and car side by side (both start after the flight ended, before either ended),
  // then payment after both — each further right on the axis.
  const [flight, hotel, car, pay] = lanes.map((l) => l.bars[0]!);
  for (const parallel of [hotel!, car!]) {
    expect(parallel.start).toBeGreaterThanOrEqual(flight!.end);
    expect(parallel.x).toBeGreaterThanOrEqual(flight!.x);
    expect(pay!.start).toBeGreaterThanOrEqual(parallel.end);
    expect(pay!.x).toBeGreaterThanOrEqual(parallel.x);
  }
  expect(hotel!.start).toBeLessThan(car!.end);
  expect(car!.start).toBeLessThan(hotel!.end);
  const stepRows = await page.$$eval('table.steps tbody tr', (rows) =>
    rows.map((r) => r.getAttribute('data-step')),
  );
  expect(stepRows).toEqual(['flight', 'hotel', 'car', 'payment']);
  const events = await page.$$eval('table.history tbody tr td:nth-child(3)', (tds) =>
    tds.map((t) => t.textContent.trim()),
  );
  expect(events[0]).toBe('SAGA_STARTED');
  expect(events[events.length - 1]).toBe('SAGA_SUCCEEDED');
  expect(await page.$eval('h1', (h) => h.textContent)).toContain('CONFIRMED');
  await shot('saga');
});

test("the trip's page shows its trace as a waterfall: the api's request at the root, then its participants' spans", async () => {
  await api.waitTrip(tripId);
  expect(await open(`/sagas/${tripId}`)).toBe(200);
  const traceId = await page.$eval('.trace-id', (e) => e.textContent.trim());
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  // Spans are written as they end: the last participants' may lag the saga's end by a moment.
  const spans = await waitFor('spans of the api and the participants', async () => {
    await open(`/sagas/${tripId}`);
    const rows = await page.$$eval('.waterfall .span', (els) =>
      els.map((e) => ({
        service: e.getAttribute('data-service'),
        name: e.getAttribute('data-name'),
        parent: e.getAttribute('data-parent-id'),
        start: Number(e.getAttribute('data-start-ms')),
        x: parseFloat(e.querySelector('rect')?.getAttribute('x') ?? 'NaN'),
      })),
    );
    const services = new Set(rows.map((r) => r.service));
    return services.has('api') && services.has('flights') && services.has('payment') ? rows : undefined;
  });
  expect(spans[0]).toMatchObject({ service: 'api', name: 'POST /trips', parent: '', start: 0, x: 0 });
  // Sorted by start, bars offset by time.
  expect(spans.map((r) => r.start)).toEqual([...spans.map((r) => r.start)].sort((a, b) => a - b));
  expect(spans.map((r) => r.x)).toEqual([...spans.map((r) => r.x)].sort((a, b) => a - b));
  expect(spans.some((r) => r.service === 'flights' && r.name === 'process flight-commands')).toBe(true);
  await shot('saga-trace');
});

test('a hostile payment token is shown as text: no element is injected, no script runs, and the CSP is strict', async () => {
  const res = await page.goto(url(`/sagas/${hostileId}`), { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  const csp = res?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).not.toContain('unsafe-inline');
  const data = JSON.parse(await page.$eval('#saga-data', (pre) => pre.textContent)) as {
    paymentToken: string;
  };
  expect(data.paymentToken).toBe(HOSTILE);
  expect(await page.$$('main img')).toHaveLength(0);
  expect(await page.$$eval('script', (s) => s.length)).toBe(1);
  await new Promise((r) => setTimeout(r, 300)); // an onerror would have fired by now
  expect(await page.evaluate(() => (window as unknown as Record<string, unknown>).__pwned)).toBeUndefined();
});

test('a dead letter is listed with its saga and redriven from the page after the confirmation; it is then marked', async () => {
  const store = new DeadLetterStore(db);
  const dl = await waitFor('the tok_unavailable charge dead letter', async () =>
    (await store.ofSaga(unavailableOrderId, 10)).find(
      (d: DeadLetter) => d.sourceTopic === TOPICS.paymentCommands,
    ),
  );
  // The saga's page links its dead letters.
  expect(await open(`/sagas/${unavailableOrderId}`)).toBe(200);
  expect(await page.$$eval(`tr[data-dead-letter-id="${dl.id}"]`, (r) => r.length)).toBe(1);

  expect(await open('/dead-letters')).toBe(200);
  const row = `tr[data-dead-letter-id="${dl.id}"]`;
  expect(await page.$eval(row, (r) => r.className)).toBe('not-redriven');
  expect(await page.$eval(`${row} td:nth-child(3)`, (td) => td.textContent.trim())).toBe(unavailableOrderId);

  // Dismissed: nothing is posted.
  const dismiss = (d: { message(): string; dismiss(): Promise<void> }) => {
    expect(d.message()).toContain(dl.id);
    void d.dismiss();
  };
  page.once('dialog', dismiss);
  await page.click(`${row} form.redrive button`);
  await new Promise((r) => setTimeout(r, 500));
  expect(new URL(page.url()).pathname).toBe('/dead-letters');
  expect((await store.get(dl.id))?.redrivenAt).toBeNull();

  // Accepted: redriven and marked.
  page.once('dialog', (d) => void d.accept());
  await Promise.all([page.waitForNavigation(), page.click(`${row} form.redrive button`)]);
  expect(await page.$eval('.redrive-results', (n) => n.textContent)).toContain('1 redriven');
  expect(await page.$eval(row, (r) => r.className)).toBe('redriven');
  expect(await page.$eval(`${row} td.state`, (td) => td.textContent)).toContain('redriven');
  expect(await page.$eval(`${row} form.redrive button`, (b) => b.textContent.trim())).toBe('redrive again');
  expect((await store.get(dl.id))?.redrivenAt).not.toBeNull();
  await open('/dead-letters');
  await shot('dead-letters');

  // The order's saga: the dead-lettered charge timed its step out, and every step was compensated in reverse.
  expect((await api.waitTerminal(unavailableOrderId)).rejectionReason).toBe('STEP_TIMEOUT');
  expect(await open(`/sagas/${unavailableOrderId}`)).toBe(200);
  const payment = await page.$$eval('.lane[data-step="payment"] rect.bar', (bs) =>
    bs.map((b) => [b.getAttribute('data-kind'), b.getAttribute('data-outcome')]),
  );
  expect(payment).toEqual([
    ['forward', 'TIMED_OUT'],
    ['compensation', 'COMPENSATED'],
  ]);
  expect(await page.$$('.lane[data-step="payment"] circle.m-dead-lettered')).toHaveLength(1);
  await shot('saga-compensated');
});

test('a redrive post without confirmation gets a confirmation page; a cross-site post is refused', async () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url('/dead-letters/redrive'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      redirect: 'manual',
    });
  const unconfirmed = await post('all=yes');
  expect(unconfirmed.status).toBe(200);
  expect(await unconfirmed.text()).toContain('Confirm redrive');
  const crossSite = await post('all=yes&confirm=yes', { 'sec-fetch-site': 'cross-site' });
  expect(crossSite.status).toBe(403);
  expect((await post('id=nope&confirm=yes')).status).toBe(400);
  expect((await post(`id=${'f'.repeat(32)}&confirm=yes`)).status).toBe(404);
  expect((await fetch(url('/dead-letters/redrive'))).status).toBe(405);
});

test('a FAILED saga is on the failed page with what to do; redriving its compensation from there resumes it', async () => {
  // A FAILED saga as the engine leaves it when a compensation never completes (3 timed-out attempts), and the dead
  // letter of its last compensation command, as the dead-letters function records it.
  const opts: EngineOptions = { stepTimeoutMs: 1000, scheduleToStartMs: 10_000, compensationMaxAttempts: 3 };
  const sagaId = `failed-${Date.now()}`;
  const data = orderApi.data(order('tok_visa'), sagaId);
  const t0 = Date.now() - 120_000;
  let now = t0;
  let state = start(orderPlacement.definition, sagaId, now, opts).state;
  const timeout = (action: 'forward' | 'compensate', attempt: number) => {
    now += 30_000;
    state = decide(
      state,
      { kind: 'timeout', step: 'credit', action, attempt, cause: 'deadline' },
      now,
      opts,
    ).state;
  };
  timeout('forward', 1);
  for (let attempt = 1; attempt <= 3; attempt++) timeout('compensate', attempt);
  expect(state.status).toBe('FAILED');
  const doc: SagaDoc = { ...state, data, createdAt: t0, updatedAt: now };
  await db.collection(COLLECTIONS.sagas).doc(sagaId).set(doc);
  const release = commandMessage(orderPlacement, sagaId, data, {
    step: 'credit',
    action: 'compensate',
    attempt: 3,
  });
  const dlId = await new DeadLetterStore(db).record({
    sourceTopic: release.topic,
    subscription: `${release.topic}--credit`,
    data: JSON.stringify(release.data),
    attributes: release.attributes,
    orderingKey: release.orderingKey ?? null,
    deliveryCount: 5,
    reason: 'MAX_DELIVERY_ATTEMPTS',
    detail: 'delivery attempts exhausted',
    dedupeKey: `console-test:${sagaId}`,
  });

  expect(await open('/failed')).toBe(200);
  const section = `section.failed[data-saga-id="${sagaId}"]`;
  expect(await page.$eval(`${section} .failed-reason`, (d) => d.textContent)).toBe(
    'compensation of credit did not complete after 3 attempts',
  );
  expect(await page.$eval('.todo', (d) => d.textContent)).toContain("redrive the compensation's dead letter");
  expect(await page.$$eval(`${section} tr[data-dead-letter-id="${dlId}"]`, (r) => r.length)).toBe(1);
  await shot('failed');

  expect(await open(`/sagas/${sagaId}`)).toBe(200);
  const bars = await page.$$eval('.lane[data-step="credit"] rect.bar', (bs) =>
    bs.map((b) => [b.getAttribute('data-kind'), b.getAttribute('data-outcome')]),
  );
  expect(bars).toEqual([
    ['forward', 'TIMED_OUT'],
    ['compensation', 'COMPENSATION_FAILED'],
  ]);
  expect(await page.$eval('.lane[data-step="credit"] small', (s) => s.textContent)).toContain(
    '3 compensation attempts',
  );

  // The operator "fixed the cause" (credit answers) and redrives the compensation from the failed page.
  expect(await open('/failed')).toBe(200);
  page.once('dialog', (d) => void d.accept());
  await Promise.all([
    page.waitForNavigation(),
    page.click(`${section} tr[data-dead-letter-id="${dlId}"] form.redrive button`),
  ]);
  expect(new URL(page.url()).pathname).toBe('/dead-letters/redrive');
  expect(await page.$eval('h1', (h) => h.textContent)).toContain(sagaId);
  expect(await page.$eval(`tr[data-dead-letter-id="${dlId}"]`, (r) => r.className)).toBe('redriven');
  const resumed = await waitFor('the saga to resume and abort', async () => {
    const r = await api.saga(sagaId);
    return r.body.status === 'ABORTED' ? r.body : undefined;
  });
  expect(resumed.history.map((h) => h.type)).toEqual(
    expect.arrayContaining(['SAGA_RESUMED', 'SAGA_ABORTED']),
  );
  expect(await open('/failed')).toBe(200);
  expect(await page.$$(section)).toHaveLength(0);
});

test('bad input gets a clear 4xx page', async () => {
  const cases: [string, number, string][] = [
    ['/sagas/no-such-saga', 404, 'no saga no-such-saga'],
    ['/sagas/not%20an%20id', 400, 'a saga id must be'],
    ['/?type=nope', 400, 'unknown saga type nope'],
    ['/?status=DONE', 400, 'unknown status DONE'],
    ['/?version=2', 400, 'a version filter needs a saga type'],
    ['/?type=trip-booking&version=x', 400, 'version must be an integer'],
    ['/?after=garbage', 400, 'not a cursor of this list'],
    ['/?limit=0', 400, 'limit must be an integer from 1 to 200'],
    ['/?type=a&type=b', 400, 'parameter type must be given once'],
    ['/dead-letters?after=garbage', 400, 'not a cursor of this list'],
    ['/nothing-here', 404, 'no page /nothing-here'],
  ];
  for (const [p, status, message] of cases) {
    expect({ p, status: await open(p) }).toEqual({ p, status });
    const text = await page.$eval('.error', (e) => e.textContent);
    expect({ p, message, shown: text.includes(message) }).toEqual({ p, message, shown: true });
  }
  // A version filter with its type works (new trips start on version 2).
  expect(await open('/?type=trip-booking&version=2')).toBe(200);
  expect(await listedIds()).toContain(tripId);
  expect(await open('/?type=trip-booking&version=1')).toBe(200);
  expect(await listedIds()).not.toContain(tripId);
});
