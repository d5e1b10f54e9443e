/**
 * `npm run saga -- metrics [--json]`: the local stack's OpenTelemetry metrics (SAGA_METRICS=local), read from the
 * snapshot files its function processes write and added up (shared/runtime/telemetry/metrics-file.ts). In the cloud
 * the metrics are in Cloud Monitoring: the command says so.
 */
import type { MetricsConfig } from '../shared/runtime/config';
import {
  aggregateSnapshots,
  readSnapshots,
  summaryRows,
  type MetricsSummary,
} from '../shared/runtime/telemetry/metrics-file';
import { table } from './table';

/** Pure: the summary as the CLI's text. */
export function metricsText(summary: MetricsSummary, dir: string): string {
  if (summary.sources.length === 0) {
    return `no metrics yet in ${dir} (function processes write theirs every SAGA_METRICS_EXPORT_MS; is \`npm start\` running?)`;
  }
  const fmt = (n: number | null): string => (n === null ? '' : String(n));
  const newest =
    summary.sources
      .map((s) => s.writtenAt)
      .sort()
      .pop() ?? '';
  return [
    `metrics of ${summary.sources.length} function processes (newest snapshot ${newest}; histograms in ms)`,
    '',
    table(
      ['metric', 'labels', 'value/count', 'mean', 'p95≤', 'max'],
      summaryRows(summary).map((r) => [
        r.metric,
        r.labels,
        String(r.value),
        fmt(r.mean),
        fmt(r.p95),
        fmt(r.max),
      ]),
    ),
  ].join('\n');
}

export function metricsCommand(cfg: MetricsConfig, json: boolean): number {
  if (cfg.mode !== 'local') {
    const where =
      cfg.mode === 'off'
        ? 'metrics are off (SAGA_METRICS=off)'
        : 'metrics go to Cloud Monitoring (metric types workload.googleapis.com/saga.*; see the README, "Metrics and alerting")';
    if (json)
      process.stdout.write(`${JSON.stringify({ mode: cfg.mode, sources: [], metrics: [] }, null, 2)}\n`);
    else process.stdout.write(`${where}\n`);
    return 0;
  }
  const summary = aggregateSnapshots(readSnapshots(cfg.dir));
  process.stdout.write(
    json
      ? `${JSON.stringify({ mode: cfg.mode, dir: cfg.dir, ...summary }, null, 2)}\n`
      : `${metricsText(summary, cfg.dir)}\n`,
  );
  return 0;
}
