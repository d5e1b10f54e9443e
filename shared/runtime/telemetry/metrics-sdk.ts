/**
 * Installs the OpenTelemetry metrics SDK for one function process, as SAGA_METRICS says (parsed once in config.ts):
 *
 * - `off`: nothing — the instruments stay on OpenTelemetry's no-op meter;
 * - `local`: a periodic reader writing this process's snapshot file (metrics-file.ts) every
 *   SAGA_METRICS_EXPORT_MS (default 5 s);
 * - `cloud`: a periodic reader (default every 60 s) exporting to Cloud Monitoring
 *   (`workload.googleapis.com/<metric>`) with @google-cloud/opentelemetry-cloud-monitoring-exporter, loaded on
 *   the first export (its Google APIs client is large; nothing of it loads locally).
 *
 * The resource names the process as a Cloud Monitoring `generic_task` (namespace gcp-saga, job = the function,
 * task_id = a random id per instance), so concurrent instances write distinct time series.
 */
import { randomUUID } from 'node:crypto';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Config } from '../config';
import { SnapshotFileExporter } from './metrics-file';
import { METER_NAME, useMeter } from './metrics';

let installed: MeterProvider | null | undefined;

/**
 * Once per process (later calls return the first result): the meter provider, or null when metrics are off.
 * `service` names the process (the function).
 */
export function installMetrics(
  cfg: Pick<Config, 'projectId' | 'metrics'>,
  service: string,
): MeterProvider | null {
  if (installed !== undefined) return installed;
  installed = null;
  const { mode, exportIntervalMs, dir } = cfg.metrics;
  if (mode === 'off') return null;
  const exporter: PushMetricExporter =
    mode === 'local'
      ? new SnapshotFileExporter(dir, service)
      : new LazyExporter(async () => {
          const gcm = await import('@google-cloud/opentelemetry-cloud-monitoring-exporter');
          // Deprecated upstream in favour of OTLP to the Telemetry API (README, Known limitations); the one
          // exporter issue 12 asks for, and still the only Cloud Monitoring one without an OTLP auth setup.
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          return new gcm.MetricExporter({ projectId: cfg.projectId });
        });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.namespace': 'gcp-saga',
      'service.instance.id': randomUUID(),
    }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: exportIntervalMs,
        exportTimeoutMillis: Math.min(30_000, exportIntervalMs),
      }),
    ],
  });
  otelMetrics.setGlobalMeterProvider(provider);
  useMeter(provider.getMeter(METER_NAME), service);
  installed = provider;
  return provider;
}

/** An exporter created on its first export. */
class LazyExporter implements PushMetricExporter {
  private exporter: Promise<PushMetricExporter> | undefined;

  constructor(private readonly load: () => Promise<PushMetricExporter>) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.exporter ??= this.load();
    this.exporter.then(
      (e) => {
        e.export(metrics, resultCallback);
      },
      (err: unknown) => {
        this.exporter = undefined; // try loading again at the next export
        resultCallback({
          code: ExportResultCode.FAILED,
          error: err instanceof Error ? err : new Error(String(err)),
        });
      },
    );
  }

  async forceFlush(): Promise<void> {
    if (this.exporter) await (await this.exporter).forceFlush();
  }

  async shutdown(): Promise<void> {
    if (this.exporter) await (await this.exporter).shutdown();
  }
}
