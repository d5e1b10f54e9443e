/**
 * Installs the OpenTelemetry trace SDK for this process, once, as SAGA_TRACING says:
 *
 * - `off`: nothing is installed — the API stays the no-op (no span, no context, no attribute: it costs nothing);
 * - `local`: spans go to a JSON-lines file per process under SAGA_TRACE_DIR (span-files.ts), written as each span
 *   ends (nothing lost when the harness kills a process; nothing on the network). Without SAGA_TRACE_DIR the
 *   context is still carried (log lines correlate) but no span is kept;
 * - `cloud`: spans go to Cloud Trace (batch span processor → `@google-cloud/opentelemetry-cloud-trace-exporter`).
 *
 * Sampling: a span with a sampled parent is recorded (ParentBased), and a span without one only when it may start
 * a trace (`root: true` in tracing.ts: the api's request, a push delivery without context). Client-library spans
 * with no saga around them (Firestore's own tracing, on by default) start no traces of their own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TraceExporter } from '@google-cloud/opentelemetry-cloud-trace-exporter';
import { SpanKind, SpanStatusCode, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { spanFileName, type SpanRecord } from './span-files';
import { ROOT_ATTRIBUTE } from './tracing';

export type TracingMode = 'off' | 'local' | 'cloud';

export interface TracingConfig {
  tracing: TracingMode;
  traceDir: string | null;
  projectId: string;
}

let installed: { mode: TracingMode; provider: NodeTracerProvider | null } | undefined;

/** Installs the SDK once per process (later calls return the first mode). */
export function installTracing(cfg: TracingConfig, service: string): TracingMode {
  if (installed) return installed.mode;
  if (cfg.tracing === 'off') {
    installed = { mode: 'off', provider: null };
    return 'off';
  }
  const processors: SpanProcessor[] = [];
  if (cfg.tracing === 'cloud') {
    // The exporter is deprecated upstream in favour of OTLP to telemetry.googleapis.com; it is what this issue asks for.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    processors.push(new BatchSpanProcessor(new TraceExporter({ projectId: cfg.projectId })));
  } else if (cfg.traceDir !== null) {
    processors.push(new SimpleSpanProcessor(new FileSpanExporter(cfg.traceDir, service)));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'gcp.project_id': cfg.projectId }),
    sampler: new ParentBasedSampler({ root: new SagaRootSampler() }),
    spanProcessors: processors,
  });
  provider.register(); // AsyncLocalStorage context manager + W3C trace context propagator
  installed = { mode: cfg.tracing, provider };
  return cfg.tracing;
}

/** Ends tracing for this process: pending spans are exported (the CLI calls it before it exits). */
export async function shutdownTracing(): Promise<void> {
  await installed?.provider?.shutdown();
}

/** Records a root span only when it may start a trace (ROOT_ATTRIBUTE). */
export class SagaRootSampler implements Sampler {
  shouldSample(
    _context: Context,
    _traceId: string,
    _name: string,
    _kind: SpanKind,
    attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    return {
      decision:
        attributes[ROOT_ATTRIBUTE] === true
          ? SamplingDecision.RECORD_AND_SAMPLED
          : SamplingDecision.NOT_RECORD,
    };
  }
  toString(): string {
    return 'SagaRootSampler';
  }
}

const KINDS: Record<SpanKind, string> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

const STATUSES: Record<SpanStatusCode, string> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

const hrMs = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;

/** A span as one line of a local span file. */
export function spanRecordOf(span: ReadableSpan, service: string): SpanRecord {
  const sc = span.spanContext();
  const parent = span.parentSpanContext;
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: parent?.spanId ?? null,
    name: span.name,
    kind: KINDS[span.kind],
    service,
    startMs: hrMs(span.startTime),
    endMs: hrMs(span.endTime),
    status: STATUSES[span.status.code],
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
    attributes: { ...span.attributes },
    ...(span.links.length > 0
      ? { links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })) }
      : {}),
  };
}

/** Appends each span as a JSON line to `<dir>/<service>-<pid>.jsonl` (synchronously: one small write per span). */
export class FileSpanExporter implements SpanExporter {
  private readonly file: string;

  constructor(
    dir: string,
    private readonly service: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, spanFileName(service, process.pid));
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      fs.appendFileSync(
        this.file,
        spans.map((s) => `${JSON.stringify(spanRecordOf(s, this.service))}\n`).join(''),
      );
      done({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
