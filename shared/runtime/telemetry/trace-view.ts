/**
 * A saga's trace as readers show it (the console): its id, where its spans are, and — locally — the spans
 * themselves, read from the span files (span-files.ts). In the cloud the spans are in Cloud Trace: a link.
 */
import { readTrace, type SpanRecord } from './span-files';
import { parseTraceparent } from './tracing';

export interface TraceView {
  traceId: string;
  /** The saga's root span (the api request that started it). */
  rootSpanId: string;
  /** Cloud Trace's page of this trace. */
  cloudTraceUrl: string;
  /** Cloud Logging's filter for every log line of this trace. */
  logFilter: string;
  /** Locally (SAGA_TRACING=local with span files): the trace's spans, by start; null when they are elsewhere. */
  spans: SpanRecord[] | null;
}

export function sagaTrace(
  cfg: { tracing: 'off' | 'local' | 'cloud'; traceDir: string | null; projectId: string },
  traceparent: string | undefined,
): TraceView | null {
  const ids = parseTraceparent(traceparent);
  if (!ids) return null;
  const project = encodeURIComponent(cfg.projectId);
  return {
    traceId: ids.traceId,
    rootSpanId: ids.spanId,
    cloudTraceUrl: `https://console.cloud.google.com/traces/list?project=${project}&tid=${ids.traceId}`,
    logFilter: `trace="projects/${cfg.projectId}/traces/${ids.traceId}"`,
    spans: cfg.tracing === 'local' && cfg.traceDir !== null ? readTrace(cfg.traceDir, ids.traceId) : null,
  };
}
