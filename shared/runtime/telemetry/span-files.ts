/**
 * Local spans (SAGA_TRACING=local): every function process appends the spans it ends to its own JSON-lines file,
 * `<SAGA_TRACE_DIR>/<function>-<pid>.jsonl`, one `SpanRecord` per line. The console reads a saga's trace from
 * them; nothing goes over the network.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Null for a trace's root span. */
  parentSpanId: string | null;
  name: string;
  /** SERVER, CONSUMER, PRODUCER, CLIENT or INTERNAL. */
  kind: string;
  /** The function (process) that recorded it. */
  service: string;
  /** Epoch milliseconds (fractional). */
  startMs: number;
  endMs: number;
  /** OK, ERROR or UNSET. */
  status: string;
  statusMessage?: string;
  attributes: Record<string, unknown>;
  /** Span ids (with their trace ids) this span links to. */
  links?: { traceId: string; spanId: string }[];
}

export function spanFileName(service: string, pid: number): string {
  return `${service.replace(/[^A-Za-z0-9_-]/g, '_')}-${pid}.jsonl`;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * Waterfall order: by start; of spans that start in the same millisecond the longer first, so a parent comes before
 * the child it started at once (the api's request span before its transaction).
 */
export function compareSpans(a: SpanRecord, b: SpanRecord): number {
  return a.startMs - b.startMs || b.endMs - a.endMs;
}

/** Bound on what one read looks at: a long-running local stack's files are read from their end. */
const MAX_BYTES_PER_FILE = 64 * 1024 * 1024;

/**
 * Every span of `traceId` recorded under `dir`, in `compareSpans` order. Unreadable files and lines are skipped (a
 * process may be writing its last line).
 */
export function readTrace(dir: string, traceId: string): SpanRecord[] {
  if (!TRACE_ID.test(traceId)) return [];
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const out: SpanRecord[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = tail(path.join(dir, file));
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes(traceId)) continue;
      const span = parseLine(line);
      if (span?.traceId === traceId) out.push(span);
    }
  }
  return out.sort(compareSpans);
}

function tail(file: string): string {
  const size = fs.statSync(file).size;
  if (size <= MAX_BYTES_PER_FILE) return fs.readFileSync(file, 'utf8');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_BYTES_PER_FILE);
    fs.readSync(fd, buf, 0, MAX_BYTES_PER_FILE, size - MAX_BYTES_PER_FILE);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function parseLine(line: string): SpanRecord | null {
  try {
    const v = JSON.parse(line) as { [K in keyof SpanRecord]?: unknown } | null;
    if (
      typeof v?.traceId !== 'string' ||
      typeof v.spanId !== 'string' ||
      typeof v.name !== 'string' ||
      typeof v.startMs !== 'number' ||
      typeof v.endMs !== 'number'
    ) {
      return null;
    }
    return {
      traceId: v.traceId,
      spanId: v.spanId,
      parentSpanId: typeof v.parentSpanId === 'string' ? v.parentSpanId : null,
      name: v.name,
      kind: typeof v.kind === 'string' ? v.kind : 'INTERNAL',
      service: typeof v.service === 'string' ? v.service : '?',
      startMs: v.startMs,
      endMs: v.endMs,
      status: typeof v.status === 'string' ? v.status : 'UNSET',
      ...(typeof v.statusMessage === 'string' ? { statusMessage: v.statusMessage } : {}),
      attributes:
        typeof v.attributes === 'object' && v.attributes !== null
          ? (v.attributes as Record<string, unknown>)
          : {},
      ...(Array.isArray(v.links) ? { links: v.links as { traceId: string; spanId: string }[] } : {}),
    };
  } catch {
    return null;
  }
}
