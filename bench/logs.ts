/**
 * Reads the per-message cost lines the functions log ("message handled" from every push consumer, "order placed"
 * from the api; see shared/metrics.ts) out of the stack's function log file, and sums them per saga and per function.
 */
import * as fs from 'node:fs';
import { SUBSCRIPTIONS } from '../shared/topology';
import { mean, percentile, round } from './stats';

/** The function that consumes a topic (the api places orders). */
function consumerOf(topic: string | null): string {
  if (topic === null) return 'api';
  return SUBSCRIPTIONS.find((s) => s.topic === topic)?.consumer ?? topic;
}

export interface CostLine {
  component: string;
  sagaId: string;
  topic: string | null;
  outcome: string;
  writes: number;
  transactions: number;
  txAttempts: number;
  txMs: number;
  publishMs: number;
  markSentMs: number;
  handlerMs: number;
  queuedMs: number | null;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Every cost line of the log file (lines look like `[fn] {json}`). */
export function readCostLines(logFile: string): CostLine[] {
  const out: CostLine[] = [];
  for (const raw of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!raw.includes('"message handled"') && !raw.includes('"order placed"')) continue;
    const json = raw.slice(raw.indexOf('{'));
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(json) as Record<string, unknown>;
    } catch {
      continue;
    }
    const labels = (e['logging.googleapis.com/labels'] ?? {}) as Record<string, string>;
    if (!labels.sagaId) continue;
    const topic = typeof e.topic === 'string' ? e.topic : null;
    out.push({
      component: consumerOf(topic),
      sagaId: labels.sagaId,
      topic,
      outcome: typeof e.outcome === 'string' ? e.outcome : 'ok',
      writes: num(e.writes),
      transactions: num(e.transactions),
      txAttempts: num(e.txAttempts),
      txMs: num(e.txMs),
      publishMs: num(e.publishMs),
      markSentMs: num(e.markSentMs),
      handlerMs: num(e.handlerMs),
      queuedMs: typeof e.queuedMs === 'number' ? e.queuedMs : null,
    });
  }
  return out;
}

export interface PerSaga {
  sagas: number;
  /** Sagas with at least one cost line (should be all). */
  seen: number;
  writesPerSaga: number;
  transactionsPerSaga: number;
  txAttemptsPerSaga: number;
  deliveriesPerSaga: number;
  /** Mean writes per saga, by function (what each write is for: see bench/README.md). */
  writesByFunction: Record<string, number>;
}

export function perSaga(lines: readonly CostLine[], sagaIds: ReadonlySet<string>): PerSaga {
  const mine = lines.filter((l) => sagaIds.has(l.sagaId));
  const n = Math.max(1, sagaIds.size);
  const byFn: Record<string, number> = {};
  for (const l of mine) byFn[l.component] = (byFn[l.component] ?? 0) + l.writes;
  const sum = (f: (l: CostLine) => number): number => mine.reduce((s, l) => s + f(l), 0);
  return {
    sagas: sagaIds.size,
    seen: new Set(mine.map((l) => l.sagaId)).size,
    writesPerSaga: round(sum((l) => l.writes) / n, 2),
    transactionsPerSaga: round(sum((l) => l.transactions) / n, 2),
    txAttemptsPerSaga: round(sum((l) => l.txAttempts) / n, 2),
    deliveriesPerSaga: round(mine.length / n, 2),
    writesByFunction: Object.fromEntries(Object.entries(byFn).map(([k, v]) => [k, round(v / n, 2)])),
  };
}

export interface PhaseStats {
  p50: number;
  p95: number;
  mean: number;
}

export interface FunctionProfile {
  deliveries: number;
  /** Publish → handler start (Pub/Sub queueing + push); null for the api. */
  queuedMs: PhaseStats | null;
  handlerMs: PhaseStats;
  txMs: PhaseStats;
  publishMs: PhaseStats;
  markSentMs: PhaseStats;
}

function phase(values: number[]): PhaseStats {
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    mean: round(mean(values)),
  };
}

/** Where the time goes, per function, over the given sagas' deliveries. */
export function profile(
  lines: readonly CostLine[],
  sagaIds: ReadonlySet<string>,
): Record<string, FunctionProfile> {
  const groups = new Map<string, CostLine[]>();
  for (const l of lines) {
    if (!sagaIds.has(l.sagaId)) continue;
    const g = groups.get(l.component) ?? [];
    g.push(l);
    groups.set(l.component, g);
  }
  const out: Record<string, FunctionProfile> = {};
  for (const [fn, g] of groups) {
    const queued = g.flatMap((l) => (l.queuedMs === null ? [] : [l.queuedMs]));
    out[fn] = {
      deliveries: g.length,
      queuedMs: queued.length > 0 ? phase(queued) : null,
      handlerMs: phase(g.map((l) => l.handlerMs)),
      txMs: phase(g.map((l) => l.txMs)),
      publishMs: phase(g.map((l) => l.publishMs)),
      markSentMs: phase(g.map((l) => l.markSentMs)),
    };
  }
  return out;
}
