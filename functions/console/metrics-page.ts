/**
 * The console's Metrics page (`GET /metrics`): locally (SAGA_METRICS=local) the OpenTelemetry metrics of every
 * function process of the stack, added up from their snapshot files; in the cloud, where to find them in Cloud
 * Monitoring. The signals worth alerting on come first (README, "Metrics and alerting").
 */
import type { MetricsConfig } from '../../shared/runtime/config';
import { METRICS } from '../../shared/runtime/telemetry/metrics';
import { summaryRows, total, type MetricsSummary } from '../../shared/runtime/telemetry/metrics-file';
import { html, type Html } from './html';
import { page, type Frame } from './pages';

export interface MetricsModel {
  mode: MetricsConfig['mode'];
  dir: string;
  summary: MetricsSummary;
}

export function metricsPage(frame: Frame, m: MetricsModel): string {
  if (m.mode !== 'local') {
    const body =
      m.mode === 'off'
        ? html`<h1>Metrics</h1>
            <p class="empty">Metrics are off (<code>SAGA_METRICS=off</code>).</p>`
        : html`<h1>Metrics</h1>
            <p>
              This deployment exports its metrics to Cloud Monitoring: open Metrics Explorer in project
              <b>${frame.project}</b> and look for the metric types
              <code>workload.googleapis.com/saga.*</code> (resource type <code>generic_task</code>, namespace
              <code>gcp-saga</code>, job = the function).
            </p>`;
    return page(frame, 'Metrics', 'metrics', body);
  }
  const s = m.summary;
  const lag = s.metrics.find((x) => x.name === METRICS.sweeperLag)?.points[0];
  const card = (label: string, value: string | number, cls = ''): Html =>
    html`<div class="card ${cls}" data-metric="${label}">
      <div class="card-value">${value}</div>
      <div class="card-label">${label}</div>
    </div>`;
  const failed = total(s, METRICS.finished, { outcome: 'FAILED' });
  const deadLetters = total(s, METRICS.deadLetters);
  const body = html`<h1>Metrics</h1>
    <p>
      ${s.sources.length} function processes of this stack, added up (snapshots in <code>${m.dir}</code>,
      written every <code>SAGA_METRICS_EXPORT_MS</code>). Histograms are in ms; p95 is the upper bound of its
      bucket.
    </p>
    <div class="cards">
      ${card('sagas started', total(s, METRICS.started))}
      ${card('succeeded', total(s, METRICS.finished, { outcome: 'SUCCEEDED' }))}
      ${card('aborted', total(s, METRICS.finished, { outcome: 'ABORTED' }))}
      ${card('FAILED', failed, failed > 0 ? 'alert' : '')}
      ${card('dead letters', deadLetters, deadLetters > 0 ? 'alert' : '')}
      ${card('admission refusals (429)', total(s, METRICS.admissionRefusals))}
      ${card('sweeper lag max (ms)', lag && 'max' in lag && lag.max !== null ? lag.max : '-')}
    </div>
    ${
      s.sources.length === 0
        ? html`<p class="empty">
            No metrics yet: every function process writes its snapshot every export interval.
          </p>`
        : html`<table class="metrics">
            <thead>
              <tr>
                <th>metric</th>
                <th>labels</th>
                <th>value / count</th>
                <th>mean</th>
                <th>p95 ≤</th>
                <th>max</th>
              </tr>
            </thead>
            <tbody>
              ${summaryRows(s).map(
                (r) =>
                  html`<tr data-metric="${r.metric}" data-labels="${r.labels}">
                    <td class="mono">${r.metric}</td>
                    <td class="mono">${r.labels}</td>
                    <td>${r.value}</td>
                    <td>${r.mean ?? ''}</td>
                    <td>${r.p95 ?? ''}</td>
                    <td>${r.max ?? ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
  return page(frame, 'Metrics', 'metrics', body);
}
