/**
 * Structured logging: one JSON object per line in Cloud Logging's format
 * (severity, message, logging.googleapis.com/labels, logging.googleapis.com/trace and spanId of the current span).
 */
import { activeSpanIds, parseTraceparent } from './telemetry/tracing';

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

export interface LogContext {
  component?: string;
  sagaId?: string;
  orderId?: string;
  messageId?: string;
  /**
   * W3C traceparent, as carried in message attributes: the trace of a line written outside any span (tracing off,
   * or before a handler's span starts). The active span, when there is one, wins.
   */
  traceparent?: string;
}

let threshold: Severity = (process.env.SAGA_LOG_LEVEL as Severity | undefined) ?? 'INFO';
if (!(threshold in RANK)) threshold = 'INFO';

export function setLogLevel(level: Severity): void {
  threshold = level;
}

/** Cloud Logging's trace fields: of the active span, else of `traceparent`; none without either. */
export function traceFields(traceparent: string | undefined): Record<string, string> {
  const ids = activeSpanIds() ?? parseTraceparent(traceparent);
  if (!ids) return {};
  const project = process.env.GOOGLE_CLOUD_PROJECT ?? 'unknown';
  return {
    'logging.googleapis.com/trace': `projects/${project}/traces/${ids.traceId}`,
    'logging.googleapis.com/spanId': ids.spanId,
  };
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(ctx: LogContext): Logger;
}

export function createLogger(
  ctx: LogContext = {},
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const emit = (severity: Severity, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[severity] < RANK[threshold]) return;
    const labels: Record<string, string> = {};
    for (const key of ['component', 'sagaId', 'orderId', 'messageId'] as const) {
      const v = ctx[key];
      if (v !== undefined) labels[key] = v;
    }
    const entry = {
      severity,
      message,
      time: new Date().toISOString(),
      ...fields,
      'logging.googleapis.com/labels': labels,
      ...traceFields(ctx.traceparent),
    };
    write(`${JSON.stringify(entry, errorReplacer)}\n`);
  };
  return {
    debug: (m, f) => emit('DEBUG', m, f),
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARNING', m, f),
    error: (m, f) => emit('ERROR', m, f),
    child: (more) => createLogger({ ...ctx, ...more }, write),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
  }
  return value;
}
