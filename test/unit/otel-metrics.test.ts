/**
 * OpenTelemetry metrics (shared/runtime/telemetry): what the instruments record when sagas run through the pure
 * engine exactly as the orchestrator applies them (observeDecision after each decision that is committed), read
 * back through an SDK metric reader in memory — asserting the recorded values and attributes, not calls. Then the
 * local snapshot files (written, read, added up across processes), the CLI's text, the console page, the config.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { metricsText } from '../../cli/metrics';
import { metricsPage } from '../../functions/console/metrics-page';
import { parseConfig } from '../../shared/runtime/config';
import { decide, start } from '../../shared/runtime/engine/engine';
import type {
  Decision,
  EngineOptions,
  SagaDefinition,
  SagaEvent,
  SagaState,
} from '../../shared/runtime/engine/types';
import {
  METRICS,
  observeDecision,
  resetSagaMetrics,
  sagaMetrics,
  useMeter,
} from '../../shared/runtime/telemetry/metrics';
import {
  aggregateSnapshots,
  quantileUpperBound,
  readSnapshots,
  SnapshotFileExporter,
  summaryRows,
  toSnapshot,
  total,
  type HistogramPoint,
  type MetricsSummary,
} from '../../shared/runtime/telemetry/metrics-file';
import { installMetrics } from '../../shared/runtime/telemetry/metrics-sdk';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';

const OPTS: EngineOptions = { stepTimeoutMs: 30_000, scheduleToStartMs: 600_000, compensationMaxAttempts: 3 };
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const ORDER = orderPlacement.definition;
const TRIP_V2: SagaDefinition = {
  type: 'trip-booking',
  version: 2,
  steps: ['flight', 'hotel', 'car', 'payment'],
  stages: [['flight'], ['hotel', 'car'], ['payment']],
};

class TestReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

let reader: TestReader;

beforeEach(() => {
  reader = new TestReader();
  useMeter(new MeterProvider({ readers: [reader] }).getMeter('test'));
});

afterAll(() => resetSagaMetrics());

/** What the reader collected, as the local summary (one process). */
async function collected(): Promise<MetricsSummary> {
  const { resourceMetrics } = await reader.collect();
  return aggregateSnapshots([toSnapshot(resourceMetrics, { function: 'test', pid: 1, startedAt: T0 }, T0)]);
}

function histogram(
  s: MetricsSummary,
  name: string,
  attrs: Record<string, string>,
): HistogramPoint | undefined {
  const points = s.metrics.find((m) => m.name === name)?.points ?? [];
  const p = points.find((x) => Object.entries(attrs).every(([k, v]) => x.attributes[k] === v));
  return p && 'count' in p ? p : undefined;
}

/** A saga run the way the orchestrator runs it: every decision applied, and observed once committed. */
class Run {
  state: SagaState;
  now: number;

  constructor(
    private readonly def: SagaDefinition,
    now = T0,
  ) {
    this.now = now;
    const d = start(def, 'saga-1', now, OPTS);
    this.state = d.state;
    sagaMetrics().sagaStarted(def.type, def.version ?? 1);
  }

  /** `ms` after the previous event, applies `event`; returns the decision. */
  apply(ms: number, event: SagaEvent): Decision {
    this.now += ms;
    const d = decide(this.state, event, this.now, OPTS);
    sagaMetrics().decisionApplied(
      this.def.type,
      this.def.version ?? 1,
      observeDecision(this.state, event, d, this.now),
    );
    this.state = d.state;
    return d;
  }

  reply(
    ms: number,
    step: string,
    outcome: 'SUCCEEDED' | 'FAILED' | 'REFUSED',
    action: 'forward' | 'compensate' = 'forward',
    attempt = 1,
  ): Decision {
    return this.apply(ms, {
      kind: 'reply',
      step,
      action,
      attempt,
      outcome,
      ...(outcome === 'FAILED' ? { reason: 'NOPE' } : {}),
    });
  }
}

describe('saga metrics recorded from engine decisions', () => {
  it('an approved order: started and SUCCEEDED once, one step latency per step with its duration', async () => {
    const run = new Run(ORDER);
    run.reply(120, 'credit', 'SUCCEEDED');
    run.reply(80, 'inventory', 'SUCCEEDED');
    run.reply(300, 'payment', 'SUCCEEDED');
    const s = await collected();
    expect(total(s, METRICS.started, { saga_type: 'order-placement', saga_version: '1' })).toBe(1);
    expect(total(s, METRICS.finished, { saga_type: 'order-placement', outcome: 'SUCCEEDED' })).toBe(1);
    expect(total(s, METRICS.finished)).toBe(1);
    expect(total(s, METRICS.compensations)).toBe(0);
    const credit = histogram(s, METRICS.stepDuration, {
      step: 'credit',
      action: 'forward',
      outcome: 'SUCCEEDED',
    });
    expect(credit).toMatchObject({ count: 1, sum: 120, min: 120, max: 120 });
    expect(histogram(s, METRICS.stepDuration, { step: 'payment' })).toMatchObject({ count: 1, sum: 300 });
    expect(total(s, METRICS.stepDuration)).toBe(3);
  });

  it('a rejected order: ABORTED, the failed step FAILED, one compensation per completed step, each timed', async () => {
    const run = new Run(ORDER);
    run.reply(10, 'credit', 'SUCCEEDED');
    run.reply(10, 'inventory', 'SUCCEEDED');
    run.reply(50, 'payment', 'FAILED');
    run.reply(20, 'inventory', 'SUCCEEDED', 'compensate');
    run.reply(30, 'credit', 'SUCCEEDED', 'compensate');
    expect(run.state.status).toBe('ABORTED');
    const s = await collected();
    expect(total(s, METRICS.finished, { outcome: 'ABORTED' })).toBe(1);
    expect(total(s, METRICS.finished)).toBe(1);
    expect(histogram(s, METRICS.stepDuration, { step: 'payment', outcome: 'FAILED' })).toMatchObject({
      count: 1,
      sum: 50,
    });
    expect(total(s, METRICS.compensations, { step: 'inventory' })).toBe(1);
    expect(total(s, METRICS.compensations, { step: 'credit' })).toBe(1);
    expect(total(s, METRICS.compensations, { step: 'payment' })).toBe(0);
    expect(histogram(s, METRICS.stepDuration, { step: 'credit', action: 'compensate' })).toMatchObject({
      count: 1,
      sum: 30,
    });
  });

  it('a timed-out step is TIMED_OUT after the step timeout; a duplicate reply and a deferred timeout record nothing', async () => {
    const run = new Run(ORDER);
    run.reply(10, 'credit', 'SUCCEEDED');
    const dup = run.reply(5, 'credit', 'SUCCEEDED');
    expect(dup.changed).toBe(false);
    // inventory's command is queued behind other work: the deadline is postponed (deferred), nothing observed
    const queued = run.apply(OPTS.stepTimeoutMs, {
      kind: 'timeout',
      step: 'inventory',
      action: 'forward',
      attempt: 1,
      cause: 'deadline',
      queued: true,
    });
    expect(queued.deferred).toBe(true);
    let s = await collected();
    expect(total(s, METRICS.stepDuration)).toBe(1);
    // then dead-lettered: timed out at once
    run.apply(1_000, {
      kind: 'timeout',
      step: 'inventory',
      action: 'forward',
      attempt: 1,
      cause: 'deadLetter',
    });
    s = await collected();
    expect(histogram(s, METRICS.stepDuration, { step: 'inventory', outcome: 'TIMED_OUT' })).toMatchObject({
      count: 1,
      sum: 5 + OPTS.stepTimeoutMs + 1_000, // issued with the credit reply; the duplicate came 5 ms later
    });
    expect(total(s, METRICS.compensations, { step: 'inventory' })).toBe(1); // its effect is unknown
    expect(total(s, METRICS.compensations, { step: 'credit' })).toBe(0); // after inventory's compensation answers
  });

  it('compensations that keep timing out: re-issues counted, FAILED once the attempts run out', async () => {
    const run = new Run(ORDER);
    run.reply(10, 'credit', 'SUCCEEDED');
    run.reply(10, 'inventory', 'FAILED');
    for (let attempt = 1; attempt <= OPTS.compensationMaxAttempts; attempt++) {
      run.apply(OPTS.stepTimeoutMs, {
        kind: 'timeout',
        step: 'credit',
        action: 'compensate',
        attempt,
        cause: 'deadline',
      });
    }
    expect(run.state.status).toBe('FAILED');
    const s = await collected();
    expect(total(s, METRICS.finished, { outcome: 'FAILED' })).toBe(1);
    expect(total(s, METRICS.compensations, { step: 'credit' })).toBe(OPTS.compensationMaxAttempts);
    expect(
      histogram(s, METRICS.stepDuration, { step: 'credit', action: 'compensate', outcome: 'TIMED_OUT' }),
    ).toMatchObject({
      count: OPTS.compensationMaxAttempts,
    });
  });

  it('parallel steps (trip v2): each member timed on its own; version 2 on every point', async () => {
    const run = new Run(TRIP_V2);
    run.reply(100, 'flight', 'SUCCEEDED');
    run.reply(40, 'car', 'SUCCEEDED');
    run.reply(60, 'hotel', 'FAILED'); // hotel and car were issued together, 100 ms after the start
    run.reply(10, 'car', 'SUCCEEDED', 'compensate');
    run.reply(10, 'flight', 'SUCCEEDED', 'compensate');
    expect(run.state.status).toBe('ABORTED');
    const s = await collected();
    const v2 = { saga_type: 'trip-booking', saga_version: '2' };
    expect(histogram(s, METRICS.stepDuration, { ...v2, step: 'car', action: 'forward' })).toMatchObject({
      sum: 40,
    });
    expect(histogram(s, METRICS.stepDuration, { ...v2, step: 'hotel', outcome: 'FAILED' })).toMatchObject({
      sum: 100,
    });
    expect(total(s, METRICS.compensations, { ...v2, step: 'car' })).toBe(1);
    expect(total(s, METRICS.compensations, { ...v2, step: 'hotel' })).toBe(0); // it failed: nothing to undo
    expect(total(s, METRICS.finished, { ...v2, outcome: 'ABORTED' })).toBe(1);
  });

  it('queue time, dead letters, admission refusals and sweeper lag carry their labels', async () => {
    reader = new TestReader(); // a reader belongs to one provider: a fresh one, for a process serving `payment`
    useMeter(new MeterProvider({ readers: [reader] }).getMeter('test'), 'payment');
    const m = sagaMetrics();
    m.queueTime('payment-commands', 42);
    m.queueTime('payment-commands', Number.NaN); // no publish time: nothing
    m.deadLetterRecorded('payment-commands', 'MAX_DELIVERY_ATTEMPTS');
    m.deadLetterRecorded('saga-replies', 'NOT_SENT_BY_PARTICIPANT');
    m.admissionRefused('order-placement');
    m.sweepPass(0);
    m.sweepPass(7_000);
    const s = await collected();
    expect(
      histogram(s, METRICS.queueDuration, { function: 'payment', topic: 'payment-commands' }),
    ).toMatchObject({ count: 1, sum: 42 });
    expect(
      total(s, METRICS.deadLetters, { topic: 'payment-commands', reason: 'MAX_DELIVERY_ATTEMPTS' }),
    ).toBe(1);
    expect(total(s, METRICS.deadLetters)).toBe(2);
    expect(total(s, METRICS.admissionRefusals, { saga_type: 'order-placement' })).toBe(1);
    const lag = histogram(s, METRICS.sweeperLag, {});
    expect(lag).toMatchObject({ count: 2, max: 7_000, min: 0 });
    expect(quantileUpperBound(lag!, 0.95)).toBe(7_000); // the 5000–10000 bucket, capped by the maximum
  });
});

describe('local snapshots', () => {
  it('each process writes its file; reading adds processes up (counters summed, histograms merged)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-metrics-test-'));
    try {
      sagaMetrics().sagaStarted('order-placement', 1);
      sagaMetrics().decisionApplied('order-placement', 1, {
        finished: 'SUCCEEDED',
        step: { step: 'payment', action: 'forward', outcome: 'SUCCEEDED', ms: 200 },
        compensations: [],
      });
      const { resourceMetrics } = await reader.collect();
      for (const fn of ['api', 'orchestrator']) {
        const result = await new Promise<{ code: number }>((resolve) =>
          new SnapshotFileExporter(dir, fn).export(resourceMetrics, resolve),
        );
        expect(result.code).toBe(ExportResultCode.SUCCESS);
      }
      fs.writeFileSync(path.join(dir, 'garbage.json'), '{not json');
      const snapshots = readSnapshots(dir);
      expect(snapshots.map((x) => x.function).sort()).toEqual(['api', 'orchestrator']);
      const s = aggregateSnapshots(snapshots);
      expect(total(s, METRICS.started)).toBe(2);
      expect(histogram(s, METRICS.stepDuration, { step: 'payment' })).toMatchObject({
        count: 2,
        sum: 400,
        max: 200,
      });
      expect(metricsText(s, dir)).toMatch(/saga\.started\s+saga_type=order-placement saga_version=1\s+2/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a directory that does not exist reads as no metrics', () => {
    const s = aggregateSnapshots(readSnapshots(path.join(os.tmpdir(), 'no-such-saga-metrics-dir')));
    expect(s).toEqual({ sources: [], metrics: [] });
    expect(metricsText(s, '/x')).toMatch(/no metrics yet in \/x/);
  });

  it('summary rows: counters as values, histograms with mean, p95 bound and max', () => {
    const s = aggregateSnapshots([
      {
        function: 'a',
        pid: 1,
        startedAt: new Date(T0).toISOString(),
        writtenAt: new Date(T0).toISOString(),
        metrics: [
          {
            name: 'x.count',
            description: '',
            unit: '1',
            kind: 'sum',
            points: [{ attributes: { b: '2', a: '1' }, value: 3 }],
          },
          {
            name: 'x.ms',
            description: '',
            unit: 'ms',
            kind: 'histogram',
            points: [
              {
                attributes: {},
                count: 4,
                sum: 100,
                min: 1,
                max: 60,
                boundaries: [10, 50],
                counts: [2, 1, 1],
              },
            ],
          },
        ],
      },
    ]);
    expect(summaryRows(s)).toEqual([
      { metric: 'x.count', unit: '1', labels: 'a=1 b=2', value: 3, mean: null, p95: null, max: null },
      { metric: 'x.ms', unit: 'ms', labels: '', value: 4, mean: 25, p95: 60, max: 60 },
    ]);
  });
});

describe('console Metrics page', () => {
  it('locally: the alerting figures first, then every point; everything escaped', () => {
    const s = aggregateSnapshots([
      {
        function: 'dead-letters',
        pid: 1,
        startedAt: new Date(T0).toISOString(),
        writtenAt: new Date(T0).toISOString(),
        metrics: [
          {
            name: METRICS.deadLetters,
            description: '',
            unit: '{message}',
            kind: 'sum',
            points: [{ attributes: { topic: 'payment-commands', reason: '<script>x</script>' }, value: 1 }],
          },
        ],
      },
    ]);
    const out = metricsPage(
      { nonce: 'n', project: 'demo' },
      { mode: 'local', dir: 'metrics-dir', summary: s },
    );
    expect(out).toContain('data-metric="dead letters"');
    expect(out).toMatch(/<div class="card alert" data-metric="dead letters">\s*<div class="card-value">1</);
    expect(out).not.toContain('<script>x');
    expect(out).toContain('&lt;script&gt;x');
  });

  it('in the cloud: where the metrics are', () => {
    const out = metricsPage(
      { nonce: 'n', project: 'my-proj' },
      { mode: 'cloud', dir: '', summary: aggregateSnapshots([]) },
    );
    expect(out).toContain('workload.googleapis.com/saga.*');
  });
});

describe('SAGA_METRICS configuration', () => {
  it('local on the emulators (5 s export), cloud without them (60 s); the directory is per project and api port', () => {
    expect(parseConfig({}).metrics).toMatchObject({ mode: 'local', exportIntervalMs: 5_000 });
    expect(parseConfig({}).metrics.dir).toBe(path.join(os.tmpdir(), 'gcp-saga-metrics', 'demo-saga-8080'));
    expect(parseConfig({ K_SERVICE: 'api' }).metrics).toMatchObject({
      mode: 'cloud',
      exportIntervalMs: 60_000,
    });
    expect(parseConfig({ PUBSUB_EMULATOR_HOST: '', FIRESTORE_EMULATOR_HOST: '' }).metrics.mode).toBe('cloud');
    expect(
      parseConfig({ SAGA_METRICS: 'off', SAGA_METRICS_EXPORT_MS: '1000', SAGA_METRICS_DIR: '/m' }).metrics,
    ).toEqual({ mode: 'off', exportIntervalMs: 1_000, dir: '/m' });
  });

  it('an unknown mode or a bad interval stops with a message naming the variable', () => {
    expect(() => parseConfig({ SAGA_METRICS: 'prometheus' })).toThrow(/SAGA_METRICS/);
    expect(() => parseConfig({ SAGA_METRICS_EXPORT_MS: '5' })).toThrow(/SAGA_METRICS_EXPORT_MS/);
  });
});

describe('installMetrics (SAGA_METRICS=local)', () => {
  it('installs the SDK once: what the hooks record reaches this process snapshot file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-metrics-sdk-'));
    const cfg = {
      projectId: 'demo-saga',
      metrics: { mode: 'local' as const, exportIntervalMs: 60_000, dir },
    };
    const provider = installMetrics(cfg, 'orchestrator');
    try {
      expect(provider).not.toBeNull();
      expect(installMetrics(cfg, 'again')).toBe(provider);
      sagaMetrics().sagaStarted('trip-booking', 2);
      await provider!.forceFlush();
      const [snap, ...more] = readSnapshots(dir);
      expect(more).toEqual([]);
      expect(snap!.function).toBe('orchestrator');
      expect(
        total(aggregateSnapshots([snap!]), METRICS.started, { saga_type: 'trip-booking', saga_version: '2' }),
      ).toBe(1);
    } finally {
      await provider?.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
