/**
 * Local metrics (`SAGA_METRICS=local`): every function process writes its cumulative metrics, at each export, as one
 * JSON snapshot file in the metrics directory (`<function>.<pid>.<start>.json`, replaced atomically). The console's
 * Metrics page and `npm run saga -- metrics` read the directory and add the processes up — a restarted process
 * leaves its last snapshot behind and starts a new file, so nothing counted is lost by a restart (except what it
 * counted after its last export). The harness empties the directory when a stack starts.
 *
 * Nothing goes over the network; the files are small (a few KiB per process).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { DataPointType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { z } from 'zod';

const attributesSchema = z.record(z.string(), z.string());

const pointSchema = z.union([
  z.object({ attributes: attributesSchema, value: z.number() }),
  z.object({
    attributes: attributesSchema,
    count: z.number(),
    sum: z.number(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    boundaries: z.array(z.number()),
    counts: z.array(z.number()),
  }),
]);

const metricSchema = z.object({
  name: z.string(),
  description: z.string(),
  unit: z.string(),
  kind: z.enum(['sum', 'gauge', 'histogram']),
  points: z.array(pointSchema),
});

export const snapshotSchema = z.object({
  function: z.string(),
  pid: z.number(),
  startedAt: z.string(),
  writtenAt: z.string(),
  metrics: z.array(metricSchema),
});

export type MetricsSnapshot = z.infer<typeof snapshotSchema>;
export type SnapshotMetric = z.infer<typeof metricSchema>;
export type SnapshotPoint = z.infer<typeof pointSchema>;
export type HistogramPoint = Extract<SnapshotPoint, { count: number }>;

/** Pure: the SDK's collected metrics as a snapshot (attribute values as strings). */
export function toSnapshot(
  rm: ResourceMetrics,
  meta: { function: string; pid: number; startedAt: number },
  now: number,
): MetricsSnapshot {
  const metrics: SnapshotMetric[] = [];
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      const head = {
        name: m.descriptor.name,
        description: m.descriptor.description,
        unit: m.descriptor.unit,
      };
      if (m.dataPointType === DataPointType.SUM || m.dataPointType === DataPointType.GAUGE) {
        metrics.push({
          ...head,
          kind: m.dataPointType === DataPointType.SUM ? 'sum' : 'gauge',
          points: m.dataPoints.map((p) => ({ attributes: stringAttributes(p.attributes), value: p.value })),
        });
      } else if (m.dataPointType === DataPointType.HISTOGRAM) {
        metrics.push({
          ...head,
          kind: 'histogram',
          points: m.dataPoints.map((p) => ({
            attributes: stringAttributes(p.attributes),
            count: p.value.count,
            sum: p.value.sum ?? 0,
            min: p.value.min ?? null,
            max: p.value.max ?? null,
            boundaries: p.value.buckets.boundaries,
            counts: p.value.buckets.counts,
          })),
        });
      }
      // Exponential histograms: not configured by this runtime.
    }
  }
  return {
    function: meta.function,
    pid: meta.pid,
    startedAt: new Date(meta.startedAt).toISOString(),
    writtenAt: new Date(now).toISOString(),
    metrics,
  };
}

function stringAttributes(attrs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Writes each export as this process's snapshot file (temporary file + rename: readers never see half a file). */
export class SnapshotFileExporter implements PushMetricExporter {
  private readonly file: string;
  private readonly startedAt = Date.now();

  constructor(
    private readonly dir: string,
    private readonly fn: string,
  ) {
    this.file = path.join(dir, `${safeName(fn)}.${process.pid}.${this.startedAt}.json`);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      const snapshot = toSnapshot(
        metrics,
        { function: this.fn, pid: process.pid, startedAt: this.startedAt },
        Date.now(),
      );
      fs.mkdirSync(this.dir, { recursive: true });
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(snapshot));
      fs.renameSync(tmp, this.file);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: err instanceof Error ? err : new Error(String(err)),
      });
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Every readable snapshot in `dir` (none when it does not exist; unreadable files are skipped). */
export function readSnapshots(dir: string): MetricsSnapshot[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: MetricsSnapshot[] = [];
  for (const name of names.sort()) {
    try {
      const parsed = snapshotSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // removed or replaced while reading: the next read has it
    }
  }
  return out;
}

export interface MetricsSummary {
  /** The processes the snapshots came from. */
  sources: { function: string; pid: number; startedAt: string; writtenAt: string }[];
  /** Per metric (sorted by name), per attribute set (sorted): sums added up, histograms merged, gauges' latest. */
  metrics: SnapshotMetric[];
}

/**
 * Pure: the snapshots of every process added up. Counters (cumulative per process) are summed; histograms merged
 * (count, sum, min, max, bucket counts when the boundaries agree); a gauge keeps the most recently written value.
 */
export function aggregateSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSummary {
  const byName = new Map<string, { metric: SnapshotMetric; points: Map<string, SnapshotPoint> }>();
  const ordered = [...snapshots].sort((a, b) => a.writtenAt.localeCompare(b.writtenAt));
  for (const snap of ordered) {
    for (const m of snap.metrics) {
      let entry = byName.get(m.name);
      if (!entry) {
        entry = { metric: { ...m, points: [] }, points: new Map() };
        byName.set(m.name, entry);
      }
      for (const p of m.points) {
        const key = attributesKey(p.attributes);
        const prev = entry.points.get(key);
        entry.points.set(key, prev === undefined || m.kind === 'gauge' ? p : merge(prev, p));
      }
    }
  }
  const metrics = [...byName.values()]
    .map(({ metric, points }) => ({
      ...metric,
      points: [...points.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    sources: snapshots.map((s) => ({
      function: s.function,
      pid: s.pid,
      startedAt: s.startedAt,
      writtenAt: s.writtenAt,
    })),
    metrics,
  };
}

function attributesKey(attrs: Record<string, string>): string {
  return JSON.stringify(Object.entries(attrs).sort(([a], [b]) => a.localeCompare(b)));
}

function merge(a: SnapshotPoint, b: SnapshotPoint): SnapshotPoint {
  if ('value' in a && 'value' in b) return { attributes: a.attributes, value: a.value + b.value };
  if ('count' in a && 'count' in b) {
    const sameBuckets =
      a.boundaries.length === b.boundaries.length && a.boundaries.every((x, i) => x === b.boundaries[i]);
    return {
      attributes: a.attributes,
      count: a.count + b.count,
      sum: a.sum + b.sum,
      min: minOf(a.min, b.min),
      max: maxOf(a.max, b.max),
      boundaries: sameBuckets ? a.boundaries : [],
      counts: sameBuckets ? a.counts.map((c, i) => c + (b.counts[i] ?? 0)) : [a.count + b.count],
    };
  }
  return b; // a metric whose kind changed between processes: the later one
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}

/**
 * Pure: an upper bound of quantile `q` (0–1) of a histogram point — the upper boundary of the bucket it falls in
 * (the maximum for the last, unbounded bucket). Null for an empty histogram.
 */
export function quantileUpperBound(p: HistogramPoint, q: number): number | null {
  if (p.count === 0) return null;
  const rank = Math.ceil(q * p.count);
  let seen = 0;
  for (let i = 0; i < p.counts.length; i++) {
    seen += p.counts[i] ?? 0;
    if (seen >= rank) return i < p.boundaries.length ? Math.min(p.boundaries[i]!, p.max ?? Infinity) : p.max;
  }
  return p.max;
}

/** The sum of a metric's points whose attributes include `match` (counters: the total; histograms: the count). */
export function total(summary: MetricsSummary, name: string, match: Record<string, string> = {}): number {
  const metric = summary.metrics.find((m) => m.name === name);
  if (!metric) return 0;
  let n = 0;
  for (const p of metric.points) {
    if (!Object.entries(match).every(([k, v]) => p.attributes[k] === v)) continue;
    n += 'value' in p ? p.value : p.count;
  }
  return n;
}

/** One line of a metrics table (the CLI's and the console's). */
export interface MetricRow {
  metric: string;
  unit: string;
  /** `k=v k=v`, sorted by key. */
  labels: string;
  /** A counter's total; a histogram's count. */
  value: number;
  /** Histograms only (ms for the runtime's). */
  mean: number | null;
  p95: number | null;
  max: number | null;
}

/** Pure: every point of every metric as a row. */
export function summaryRows(summary: MetricsSummary): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const m of summary.metrics) {
    for (const p of m.points) {
      const labels = Object.entries(p.attributes)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      if ('value' in p) {
        rows.push({ metric: m.name, unit: m.unit, labels, value: p.value, mean: null, p95: null, max: null });
      } else {
        rows.push({
          metric: m.name,
          unit: m.unit,
          labels,
          value: p.count,
          mean: p.count > 0 ? Math.round((p.sum / p.count) * 10) / 10 : null,
          p95: quantileUpperBound(p, 0.95),
          max: p.max,
        });
      }
    }
  }
  return rows;
}
