/**
 * The operator console's pure pieces: the timeline laid out from a history (sequential, parallel, compensations,
 * retries, a resumed saga, running and skipped steps) and HTML escaping, down to whole pages rendered from hostile
 * saga data and dead letters.
 */
import { Html, escapeHtml, html, pathOf, query } from '../../functions/console/html';
import { deadLettersPage, errorPage, failedPage, listPage, sagaPage } from '../../functions/console/pages';
import type { SagaDetail, SagaRow } from '../../functions/console/service';
import { layoutWaterfall } from '../../functions/console/waterfall';

const HOSTILE_NAME = '<img src=x onerror=__pwned=1>';
import {
  formatDuration,
  layoutTimeline,
  percentOf,
  type TimelineEvent,
  type TimelineStep,
} from '../../functions/console/timeline';
import { orderApi } from '../../shared/sagas/order-placement/api';
import { sagaView } from '../../shared/runtime/api/views';
import type { DeadLetter } from '../../shared/runtime/store/dead-letters';
import type { SagaDoc } from '../../shared/runtime/store/sagas';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const ev = (ms: number, type: string, step?: string, reason?: string): TimelineEvent => ({
  at: at(ms),
  type,
  ...(step !== undefined ? { step } : {}),
  ...(reason !== undefined ? { reason } : {}),
});
const steps = (...names: string[]): TimelineStep[] =>
  names.map((name) => ({ name, status: 'SUCCEEDED', attempts: 1 }));
const bars = (t: ReturnType<typeof layoutTimeline>, step: string) =>
  t.lanes.find((l) => l.step === step)!.bars;

describe('timeline layout', () => {
  it('a sequential saga: one lane per step in definition order, each run starting where the last ended, nothing parallel', () => {
    const t = layoutTimeline(
      steps('credit', 'inventory', 'payment'),
      [
        ev(0, 'SAGA_STARTED'),
        ev(0, 'STEP_STARTED', 'credit'),
        ev(40, 'STEP_SUCCEEDED', 'credit'),
        ev(40, 'STEP_STARTED', 'inventory'),
        ev(90, 'STEP_SUCCEEDED', 'inventory'),
        ev(90, 'STEP_STARTED', 'payment'),
        ev(200, 'STEP_SUCCEEDED', 'payment'),
        ev(200, 'SAGA_SUCCEEDED'),
      ],
      T0 + 10_000,
    );
    expect(t.lanes.map((l) => l.step)).toEqual(['credit', 'inventory', 'payment']);
    expect(t.startMs).toBe(T0);
    expect(t.endMs).toBe(T0 + 200);
    expect(t.lanes.map((l) => l.bars.map((b) => [b.kind, b.startMs - T0, b.endMs - T0, b.outcome]))).toEqual([
      [['forward', 0, 40, 'SUCCEEDED']],
      [['forward', 40, 90, 'SUCCEEDED']],
      [['forward', 90, 200, 'SUCCEEDED']],
    ]);
    expect(t.lanes.flatMap((l) => l.bars.flatMap((b) => b.overlaps))).toEqual([]);
    expect(t.parallel).toEqual([]);
    expect(t.lanes.map((l) => [l.forwardRuns, l.compensationAttempts])).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
    expect(percentOf(t, T0 + 40)).toBe(20);
  });

  it('parallel steps (two STEP_STARTED before either ends): overlapping bars in their own lanes, side by side in time', () => {
    const t = layoutTimeline(
      steps('flight', 'hotel', 'car', 'payment'),
      [
        ev(0, 'SAGA_STARTED'),
        ev(0, 'STEP_STARTED', 'flight'),
        ev(50, 'STEP_SUCCEEDED', 'flight'),
        ev(50, 'STEP_STARTED', 'hotel'),
        ev(50, 'STEP_STARTED', 'car'),
        ev(120, 'STEP_SUCCEEDED', 'car'),
        ev(160, 'STEP_SUCCEEDED', 'hotel'),
        ev(160, 'STEP_STARTED', 'payment'),
        ev(220, 'STEP_SUCCEEDED', 'payment'),
        ev(220, 'SAGA_SUCCEEDED'),
      ],
      T0 + 1000,
    );
    const [hotel] = bars(t, 'hotel');
    const [car] = bars(t, 'car');
    expect([hotel!.startMs, hotel!.endMs]).toEqual([T0 + 50, T0 + 160]);
    expect([car!.startMs, car!.endMs]).toEqual([T0 + 50, T0 + 120]);
    // Same start on the time axis, different lanes.
    expect(percentOf(t, hotel!.startMs)).toBe(percentOf(t, car!.startMs));
    expect(hotel!.overlaps).toEqual(['car']);
    expect(car!.overlaps).toEqual(['hotel']);
    expect(bars(t, 'flight')[0]!.overlaps).toEqual([]);
    expect(bars(t, 'payment')[0]!.overlaps).toEqual([]);
    expect(t.parallel).toEqual([['hotel', 'car']]);
  });

  it('three steps overlapping in a chain form one parallel group; parallel compensations overlap too', () => {
    const t = layoutTimeline(
      steps('a', 'b', 'c', 'd'),
      [
        ev(0, 'STEP_STARTED', 'a'),
        ev(10, 'STEP_STARTED', 'b'),
        ev(20, 'STEP_SUCCEEDED', 'a'),
        ev(15, 'STEP_STARTED', 'c'),
        ev(30, 'STEP_FAILED', 'b', 'NO_ROOMS'),
        ev(40, 'STEP_SUCCEEDED', 'c'),
        ev(40, 'COMPENSATION_STARTED', undefined, 'NO_ROOMS'),
        ev(40, 'STEP_COMPENSATING', 'c'),
        ev(41, 'STEP_COMPENSATING', 'a'),
        ev(60, 'STEP_COMPENSATED', 'a'),
        ev(70, 'STEP_COMPENSATED', 'c'),
        ev(70, 'SAGA_ABORTED', undefined, 'NO_ROOMS'),
      ],
      T0 + 1000,
    );
    expect(t.parallel).toEqual([['a', 'b', 'c']]);
    expect(bars(t, 'b')[0]).toMatchObject({ outcome: 'FAILED', reason: 'NO_ROOMS' });
    const compA = bars(t, 'a').find((b) => b.kind === 'compensation')!;
    const compC = bars(t, 'c').find((b) => b.kind === 'compensation')!;
    expect(compA.overlaps).toEqual(['c']);
    expect(compC.overlaps).toEqual(['a']);
    expect(t.lanes.find((l) => l.step === 'd')!.bars).toEqual([]);
  });

  it('compensation: re-issued attempts counted on its bar, COMPENSATION_FAILED ends it, SAGA_RESUMED starts another', () => {
    const history = [
      ev(0, 'SAGA_STARTED'),
      ev(0, 'STEP_STARTED', 'credit'),
      ev(30_000, 'STEP_TIMED_OUT', 'credit', 'STEP_TIMEOUT'),
      ev(30_000, 'COMPENSATION_STARTED', undefined, 'STEP_TIMEOUT'),
      ev(30_000, 'STEP_COMPENSATING', 'credit'),
      ev(60_000, 'COMPENSATION_RETRIED', 'credit', 'STEP_TIMEOUT'),
      ev(90_000, 'COMPENSATION_RETRIED', 'credit', 'STEP_TIMEOUT'),
      ev(
        120_000,
        'COMPENSATION_FAILED',
        'credit',
        'compensation of credit did not complete after 3 attempts',
      ),
      ev(120_000, 'SAGA_FAILED', undefined, 'compensation of credit did not complete after 3 attempts'),
    ];
    const failed = layoutTimeline(
      [{ name: 'credit', status: 'COMPENSATION_FAILED', attempts: 4 }],
      history,
      T0 + 200_000,
    );
    const lane = failed.lanes[0]!;
    expect(lane.compensationAttempts).toBe(3);
    expect(lane.bars.map((b) => [b.kind, b.outcome, b.attempts, b.open])).toEqual([
      ['forward', 'TIMED_OUT', 1, false],
      ['compensation', 'COMPENSATION_FAILED', 3, false],
    ]);
    expect(lane.markers.map((m) => [m.kind, m.atMs - T0])).toEqual([
      ['retried', 60_000],
      ['retried', 90_000],
    ]);
    // A FAILED saga ends at its last event, not at "now".
    expect(failed.endMs).toBe(T0 + 120_000);

    const resumed = layoutTimeline(
      [{ name: 'credit', status: 'COMPENSATED', attempts: 4 }],
      [...history, ev(150_000, 'SAGA_RESUMED', 'credit'), ev(150_000, 'STEP_COMPENSATED', 'credit')],
      T0 + 200_000,
    );
    expect(resumed.lanes[0]!.bars.map((b) => [b.kind, b.outcome, b.startMs - T0])).toEqual([
      ['forward', 'TIMED_OUT', 0],
      ['compensation', 'COMPENSATION_FAILED', 30_000],
      ['compensation', 'COMPENSATED', 150_000],
    ]);
    expect(resumed.lanes[0]!.markers.map((m) => m.kind)).toEqual(['retried', 'retried', 'resumed']);
  });

  it('a running step is an open bar up to now; queued, dead-lettered and skipped steps are markers', () => {
    const t = layoutTimeline(
      [
        { name: 'flight', status: 'SUCCEEDED', attempts: 1 },
        { name: 'car', status: 'SKIPPED', attempts: 0 },
        { name: 'payment', status: 'RUNNING', attempts: 1 },
      ],
      [
        ev(0, 'SAGA_STARTED'),
        ev(0, 'STEP_SKIPPED', 'car'),
        ev(0, 'STEP_STARTED', 'flight'),
        ev(100, 'STEP_SUCCEEDED', 'flight'),
        ev(100, 'STEP_STARTED', 'payment'),
        ev(30_100, 'STEP_QUEUED', 'payment', 'PARTICIPANT_BUSY'),
        ev(40_000, 'COMMAND_DEAD_LETTERED', 'payment', 'MAX_DELIVERY_ATTEMPTS'),
      ],
      T0 + 50_000,
    );
    const payment = t.lanes.find((l) => l.step === 'payment')!;
    expect(payment.bars).toEqual([
      expect.objectContaining({ kind: 'forward', open: true, outcome: 'RUNNING', endMs: T0 + 50_000 }),
    ]);
    expect(payment.markers.map((m) => [m.kind, m.reason])).toEqual([
      ['queued', 'PARTICIPANT_BUSY'],
      ['dead-lettered', 'MAX_DELIVERY_ATTEMPTS'],
    ]);
    const car = t.lanes.find((l) => l.step === 'car')!;
    expect(car.bars).toEqual([]);
    expect(car.markers.map((m) => m.kind)).toEqual(['skipped']);
    expect(t.endMs).toBe(T0 + 50_000);
    expect(percentOf(t, T0 + 25_000)).toBe(50);
  });

  it('odd histories: an end without its start, an empty history, an unparsable time, a step the definition lacks', () => {
    const t = layoutTimeline(steps('x'), [ev(0, 'SAGA_STARTED'), ev(50, 'STEP_SUCCEEDED', 'x')], T0 + 60);
    expect(t.lanes[0]!.bars).toEqual([
      expect.objectContaining({ startMs: T0 + 50, endMs: T0 + 50, open: false, outcome: 'SUCCEEDED' }),
    ]);
    const empty = layoutTimeline(steps('x'), [], T0);
    expect(empty).toMatchObject({ startMs: T0, endMs: T0, parallel: [] });
    expect(percentOf(empty, T0 + 5)).toBe(0);
    const odd = layoutTimeline(
      steps('x'),
      [ev(0, 'SAGA_STARTED'), { at: 'not a time', type: 'STEP_STARTED', step: 'ghost' }],
      T0 + 10,
    );
    expect(odd.lanes.map((l) => [l.step, l.status])).toEqual([
      ['x', 'SUCCEEDED'],
      ['ghost', 'UNKNOWN'],
    ]);
    expect(odd.lanes[1]!.bars[0]).toMatchObject({ startMs: T0, open: true });
  });

  it('formats durations', () => {
    expect([0, 412, 3_249, 59_999, 245_000].map(formatDuration)).toEqual([
      '0 ms',
      '412 ms',
      '3.2 s',
      '60.0 s',
      '4 min 5 s',
    ]);
  });
});

// A payment token is any text of at most 64 characters.
const HOSTILE = '<img src=x onerror=__pwned=1><script>__pwned=2</script>';

describe('HTML escaping', () => {
  it('escapes every character that could leave text or an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
    expect(escapeHtml('plain text, ünïcødé ∥')).toBe('plain text, ünïcødé ∥');
  });

  it('html`` escapes interpolated values, keeps nested templates, joins arrays, drops null/undefined/false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(inner).toBeInstanceOf(Html);
    expect(
      html`<p title="${'"><script>'}">${inner}${[1, '&', html`<br />`]}${null}${undefined}${false}${0}</p>`
        .value,
    ).toBe('<p title="&quot;&gt;&lt;script&gt;"><b>&lt;i&gt;</b>1&amp;<br />0</p>');
    expect(html`${HOSTILE}`.value).not.toMatch(/<(img|script)/);
  });

  it('links encode ids and query values', () => {
    expect(pathOf('/sagas/', 'a/b?c')).toBe('/sagas/a%2Fb%3Fc');
    expect(query({ type: 'x&y', status: undefined, version: 2, after: '' })).toBe('?type=x%26y&version=2');
    expect(query({})).toBe('');
  });
});

function orderDoc(overrides: Partial<SagaDoc> = {}): SagaDoc {
  return {
    sagaId: 'o-1',
    type: 'order-placement',
    status: 'FAILED',
    currentStep: null,
    failureReason: 'STEP_TIMEOUT',
    failedReason: `compensation of credit failed: ${HOSTILE}`,
    steps: [
      { name: 'credit', status: 'COMPENSATION_FAILED', attempts: 2, compensationAttempts: 1 },
      { name: 'inventory', status: 'PENDING', attempts: 0, compensationAttempts: 0 },
      { name: 'payment', status: 'PENDING', attempts: 0, compensationAttempts: 0 },
    ],
    awaiting: null,
    deadlineAt: null,
    history: [
      { at: at(0), type: 'SAGA_STARTED' },
      { at: at(0), type: 'STEP_STARTED', step: 'credit' },
      { at: at(10), type: 'STEP_FAILED', step: 'credit', reason: HOSTILE },
    ],
    version: 3,
    definitionVersion: 1,
    data: {
      orderId: 'o-1',
      customerId: 'c-1',
      items: [{ sku: 'sku-1', quantity: 1, unitPriceCents: 100 }],
      totalCents: 100,
      paymentToken: HOSTILE,
    },
    createdAt: T0,
    updatedAt: T0 + 10,
    ...overrides,
  };
}

function deadLetter(overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: 'a'.repeat(32),
    sourceTopic: `payment-commands${HOSTILE}`,
    subscription: null,
    data: HOSTILE,
    attributes: { [HOSTILE]: HOSTILE },
    deliveryCount: 5,
    reason: HOSTILE,
    detail: HOSTILE,
    orderingKey: null,
    sagaId: 'o-1',
    messageId: null,
    dataBase64: null,
    dataTruncated: false,
    attributesJson: null,
    recordedAt: at(20),
    redrivenAt: null,
    redriveCount: 0,
    ...overrides,
  };
}

const frame = { nonce: 'bm9uY2U=', project: 'demo-saga' };

/** No markup of the hostile string survives: the only script element is the page's own, with its nonce. */
function expectInert(page: string): void {
  expect(page).not.toContain('<img');
  expect(page).not.toContain('<script>__pwned');
  expect(page.match(/<script/g)).toEqual(['<script']);
  expect(page).toContain(`<script nonce="${frame.nonce}">`);
  expect(page).toContain(`<style nonce="${frame.nonce}">`);
  expect(page).not.toMatch(/\sstyle="/);
}

describe('pages rendered from hostile data', () => {
  const doc = orderDoc();
  const saga = sagaView(doc);
  const row: SagaRow = { saga, api: orderApi, resource: orderApi.view(doc, saga) };

  it('a saga page shows the data as escaped text, the timeline, the steps, the dead letters and what to do', () => {
    const detail: SagaDetail = { ...row, data: doc.data, deadLetters: [deadLetter()], trace: null };
    const out = sagaPage(frame, detail, T0 + 100);
    expectInert(out);
    expect(out).toContain('No trace: tracing was off when this saga started.');
    expect(out).toContain(
      '&quot;paymentToken&quot;: &quot;&lt;img src=x onerror=__pwned=1&gt;&lt;script&gt;',
    );
    expect(out).toMatch(/<div\s+class="lane"\s+data-step="credit"/);
    expect(out).toMatch(/<rect\s+class="bar forward o-FAILED"/);
    expect(out).toContain('What to do.');
    expect(out).toContain('id="dl-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"');
  });

  it('the list, dead-letter, failed and error pages escape every value', () => {
    expectInert(listPage(frame, { rows: [row], next: 'c"><script>', types: ['order-placement'], limit: 25 }));
    const dl = [deadLetter(), deadLetter({ id: 'b'.repeat(32), redrivenAt: at(30), redriveCount: 2 })];
    const dls = deadLettersPage(frame, {
      items: dl,
      next: null,
      limit: 50,
      results: [{ id: HOSTILE, result: 'unknown-topic', detail: HOSTILE }],
    });
    expectInert(dls);
    expect(dls).toContain('<span class="badge redriven">redriven</span>');
    expect(dls).toContain('redrive again');
    expectInert(failedPage(frame, { rows: [{ row, deadLetters: dl }], next: null }));
    expectInert(errorPage(frame, 404, 'Not found', `no saga ${HOSTILE}`));
  });
});

describe('the trace waterfall', () => {
  const TRACE = 'a'.repeat(32);
  const span = (
    id: string,
    parent: string | null,
    name: string,
    service: string,
    start: number,
    end: number,
  ) => ({
    traceId: TRACE,
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === null ? null : parent.padStart(16, '0'),
    name,
    kind: parent === null ? 'SERVER' : 'CONSUMER',
    service,
    startMs: T0 + start,
    endMs: T0 + end,
    status: 'OK',
    attributes: {},
  });
  const spans = [
    span('3', '2', 'process saga-replies', 'orchestrator', 60, 90),
    span('1', null, 'POST /orders', 'api', 0, 40),
    span('2', '1', 'process credit-commands', 'credit', 20, 50),
    span('4', '1', HOSTILE_NAME, 'api', 10, 20),
  ];

  it('lays spans out by start, indented under their parents, offset and sized by time', () => {
    const w = layoutWaterfall(spans);
    expect(w.rows.map((r) => r.span.name)).toEqual([
      'POST /orders',
      HOSTILE_NAME,
      'process credit-commands',
      'process saga-replies',
    ]);
    expect(w.rows.map((r) => r.depth)).toEqual([0, 1, 1, 2]);
    expect(w.rows[2]).toMatchObject({
      offsetPct: (20 / 90) * 100,
      widthPct: (30 / 90) * 100,
      durationMs: 30,
    });
    expect(w.services).toEqual(['api', 'credit', 'orchestrator']);
    expect(layoutWaterfall([]).rows).toEqual([]);
  });

  it('shows name, function and duration of each span on the saga page, escaped', () => {
    const doc = orderDoc();
    const saga = sagaView(doc);
    const detail: SagaDetail = {
      saga,
      api: orderApi,
      resource: orderApi.view(doc, saga),
      data: doc.data,
      deadLetters: [],
      trace: {
        traceId: TRACE,
        rootSpanId: '1'.padStart(16, '0'),
        cloudTraceUrl: `https://console.cloud.google.com/traces/list?project=p&tid=${TRACE}`,
        logFilter: `trace="projects/p/traces/${TRACE}"`,
        spans,
      },
    };
    const out = sagaPage(frame, detail, T0 + 100);
    expectInert(out);
    expect(out).toContain(`data-trace-id="${TRACE}"`);
    expect(out.match(/<div\s+class="span"/g)).toHaveLength(4);
    expect(out).toMatch(/data-service="credit"\s+data-name="process credit-commands"/);
    expect(out).toContain('process credit-commands <small>credit · 30 ms</small>');
    expect(out).toContain('&lt;img src=x onerror=__pwned=1&gt;');
    expect(out).toContain('trace=&quot;projects/p/traces/');
  });

  it('in the cloud (no local spans) links to Cloud Trace', () => {
    const doc = orderDoc();
    const saga = sagaView(doc);
    const out = sagaPage(
      frame,
      {
        saga,
        api: orderApi,
        resource: null,
        data: doc.data,
        deadLetters: [],
        trace: {
          traceId: TRACE,
          rootSpanId: '1'.padStart(16, '0'),
          cloudTraceUrl: `https://console.cloud.google.com/traces/list?project=p&amp;tid=${TRACE}`,
          logFilter: 'x',
          spans: null,
        },
      },
      T0 + 100,
    );
    expect(out).toContain('open this trace');
    expect(out).not.toContain('class="waterfall"');
  });
});
