/**
 * A trace as a waterfall (pure): its spans in `compareSpans` order, each indented under its parent and placed on a time
 * axis from the trace's first start to its last end (bar offset and width in percent of that span).
 */
import { compareSpans, type SpanRecord } from '../../shared/runtime/telemetry/span-files';

export interface WaterfallRow {
  span: SpanRecord;
  /** Parents above it in this trace (0: a root, or a span whose parent was not recorded). */
  depth: number;
  offsetPct: number;
  widthPct: number;
  durationMs: number;
}

export interface Waterfall {
  startMs: number;
  endMs: number;
  rows: WaterfallRow[];
  /** Functions that recorded spans, in order of their first span. */
  services: string[];
}

const MAX_DEPTH = 12;

export function layoutWaterfall(spans: readonly SpanRecord[]): Waterfall {
  const sorted = [...spans].sort(compareSpans);
  const startMs = sorted.length > 0 ? Math.min(...sorted.map((s) => s.startMs)) : 0;
  const endMs = sorted.length > 0 ? Math.max(...sorted.map((s) => s.endMs)) : 0;
  const total = endMs - startMs;
  const byId = new Map(sorted.map((s) => [s.spanId, s]));
  const depthOf = (s: SpanRecord): number => {
    let depth = 0;
    const seen = new Set<string>([s.spanId]);
    for (let p = s.parentSpanId; p !== null && depth < MAX_DEPTH;) {
      const parent = byId.get(p);
      if (!parent || seen.has(parent.spanId)) break;
      seen.add(parent.spanId);
      depth += 1;
      p = parent.parentSpanId;
    }
    return depth;
  };
  const pct = (ms: number): number => (total <= 0 ? 0 : Math.min(100, Math.max(0, (ms / total) * 100)));
  const rows = sorted.map((span) => {
    const offsetPct = pct(span.startMs - startMs);
    return {
      span,
      depth: depthOf(span),
      offsetPct,
      widthPct: Math.min(pct(span.endMs - span.startMs), 100 - offsetPct),
      durationMs: Math.max(0, span.endMs - span.startMs),
    };
  });
  const services: string[] = [];
  for (const s of sorted) if (!services.includes(s.service)) services.push(s.service);
  return { startMs, endMs, rows, services };
}
