/**
 * Reads the per-message cost lines the functions log ("message handled" from every push consumer, "order placed"
 * from the api; see shared/runtime/metrics.ts) out of the stack's function log file, and sums them per saga and per function.
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
  /** '' for a line of no saga (a sweep, a refused POST): see `background`. */
  sagaId: string;
  topic: string | null;
  message: string;
  /** Epoch ms of the line. */
  time: number;
  outcome: string;
  reads: number;
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

/**
 * Every cost line of the log file (lines look like `[fn] {json}`): the "message handled" and "order placed" lines,
 * and any other line carrying the metrics' `reads`/`writes` fields (e.g. of work done for no saga).
 */
export function readCostLines(logFile: string): CostLine[] {
  const out: CostLine[] = [];
  for (const raw of fs.readFileSync(logFile, 'utf8').split('\n')) {
    const named = raw.includes('"message handled"') || raw.includes('"order placed"');
    if (!named && !raw.includes('"writes":') && !raw.includes('"reads":')) continue;
    const brace = raw.indexOf('{');
    if (brace < 0) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(raw.slice(brace)) as Record<string, unknown>;
    } catch {
      continue;
    }
    const labels = (e['logging.googleapis.com/labels'] ?? {}) as Record<string, string>;
    const topic = typeof e.topic === 'string' ? e.topic : null;
    const prefix = /^\[([^\]]+)\]/.exec(raw)?.[1];
    out.push({
      component: topic !== null || !prefix ? consumerOf(topic) : prefix,
      sagaId: labels.sagaId ?? '',
      topic,
      message: typeof e.message === 'string' ? e.message : '',
      time: typeof e.time === 'string' ? Date.parse(e.time) : NaN,
      outcome: typeof e.outcome === 'string' ? e.outcome : 'ok',
      reads: num(e.reads),
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

export interface Background {
  /** Lines of no saga in the window, by component and message (e.g. `sweeper: message handled`). */
  lines: Record<string, number>;
  reads: number;
  writes: number;
  handlerMs: number;
}

/** The work logged for no saga (sweeps, refused POSTs, …) between two epoch-ms instants. */
export function background(lines: readonly CostLine[], fromMs: number, toMs: number): Background {
  const out: Background = { lines: {}, reads: 0, writes: 0, handlerMs: 0 };
  for (const l of lines) {
    if (l.sagaId !== '' || !(l.time >= fromMs && l.time <= toMs)) continue;
    const key = `${l.component}: ${l.message}`;
    out.lines[key] = (out.lines[key] ?? 0) + 1;
    out.reads += l.reads;
    out.writes += l.writes;
    out.handlerMs += l.handlerMs;
  }
  out.handlerMs = round(out.handlerMs, 0);
  return out;
}

export interface PerSaga {
  sagas: number;
  /** Sagas with at least one cost line (should be all). */
  seen: number;
  readsPerSaga: number;
  writesPerSaga: number;
  transactionsPerSaga: number;
  txAttemptsPerSaga: number;
  /** Cost lines per saga: push deliveries handled plus the api's POST (the function invocations a saga needs). */
  deliveriesPerSaga: number;
  /** Summed handler wall time per saga, ms (what request-based billing of the functions would charge for). */
  handlerMsPerSaga: number;
  /** Mean writes per saga, by function (what each write is for: see bench/README.md). */
  writesByFunction: Record<string, number>;
  readsByFunction: Record<string, number>;
}

export function perSaga(lines: readonly CostLine[], sagaIds: ReadonlySet<string>): PerSaga {
  const mine = lines.filter((l) => l.sagaId !== '' && sagaIds.has(l.sagaId));
  const n = Math.max(1, sagaIds.size);
  const byFn = (f: (l: CostLine) => number): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const l of mine) out[l.component] = (out[l.component] ?? 0) + f(l);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, round(v / n, 2)]));
  };
  const sum = (f: (l: CostLine) => number): number => mine.reduce((s, l) => s + f(l), 0);
  return {
    sagas: sagaIds.size,
    seen: new Set(mine.map((l) => l.sagaId)).size,
    readsPerSaga: round(sum((l) => l.reads) / n, 2),
    writesPerSaga: round(sum((l) => l.writes) / n, 2),
    transactionsPerSaga: round(sum((l) => l.transactions) / n, 2),
    txAttemptsPerSaga: round(sum((l) => l.txAttempts) / n, 2),
    deliveriesPerSaga: round(mine.length / n, 2),
    handlerMsPerSaga: round(sum((l) => l.handlerMs) / n, 1),
    writesByFunction: byFn((l) => l.writes),
    readsByFunction: byFn((l) => l.reads),
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
    if (l.sagaId === '' || !sagaIds.has(l.sagaId)) continue;
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
