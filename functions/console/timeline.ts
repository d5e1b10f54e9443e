/**
 * A saga's steps on a timeline, laid out from its history (pure): one lane per step, one bar per run — forward from
 * STEP_STARTED to STEP_SUCCEEDED / STEP_FAILED / STEP_TIMED_OUT, compensation from STEP_COMPENSATING (or
 * SAGA_RESUMED) to STEP_COMPENSATED / COMPENSATION_FAILED — and markers for the point events (queued, dead-lettered,
 * compensation re-issued, skipped). Events are paired per step, so steps running in parallel (two STEP_STARTED before
 * either ends) get overlapping bars in their own lanes; `overlaps` and `parallel` say which ran at the same time.
 */

export interface TimelineEvent {
  at: string;
  type: string;
  step?: string;
  reason?: string;
}

export interface TimelineStep {
  name: string;
  status: string;
  attempts: number;
}

export type BarKind = 'forward' | 'compensation';

export type BarOutcome =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'COMPENSATING' | 'COMPENSATED' | 'COMPENSATION_FAILED';

export interface Bar {
  step: string;
  kind: BarKind;
  startMs: number;
  /** The end event's time; for a run still open, the time the timeline was laid out at. */
  endMs: number;
  /** No end event yet. */
  open: boolean;
  outcome: BarOutcome;
  reason: string | null;
  /** Commands issued for this run: 1, plus every re-issued compensation. */
  attempts: number;
  /** Other steps with a run overlapping this one in time. */
  overlaps: string[];
}

export type MarkerKind = 'queued' | 'dead-lettered' | 'retried' | 'skipped' | 'resumed';

export interface Marker {
  step: string;
  kind: MarkerKind;
  type: string;
  atMs: number;
  reason: string | null;
}

export interface Lane {
  step: string;
  status: string;
  attempts: number;
  /** Forward commands issued (0 or 1 today). */
  forwardRuns: number;
  /** Compensation commands issued (first attempt and re-issues). */
  compensationAttempts: number;
  bars: Bar[];
  markers: Marker[];
}

export interface Timeline {
  startMs: number;
  endMs: number;
  lanes: Lane[];
  /** Groups of steps whose runs overlapped (each sorted in lane order); empty for a sequential saga. */
  parallel: string[][];
}

const FORWARD_END: Record<string, BarOutcome> = {
  STEP_SUCCEEDED: 'SUCCEEDED',
  STEP_FAILED: 'FAILED',
  STEP_TIMED_OUT: 'TIMED_OUT',
};
const COMPENSATION_END: Record<string, BarOutcome> = {
  STEP_COMPENSATED: 'COMPENSATED',
  COMPENSATION_FAILED: 'COMPENSATION_FAILED',
};
const MARKERS: Record<string, MarkerKind> = {
  STEP_QUEUED: 'queued',
  COMMAND_DEAD_LETTERED: 'dead-lettered',
  COMPENSATION_RETRIED: 'retried',
  STEP_SKIPPED: 'skipped',
};

function timeOf(at: string, fallback: number): number {
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? ms : fallback;
}

/** Lays out the timeline of `steps` (in definition order) from `history`; open runs end at `nowMs`. */
export function layoutTimeline(
  steps: readonly TimelineStep[],
  history: readonly TimelineEvent[],
  nowMs: number,
): Timeline {
  const lanes = new Map<string, Lane>();
  const lane = (name: string): Lane => {
    let l = lanes.get(name);
    if (!l) {
      const s = steps.find((x) => x.name === name);
      l = {
        step: name,
        status: s?.status ?? 'UNKNOWN',
        attempts: s?.attempts ?? 0,
        forwardRuns: 0,
        compensationAttempts: 0,
        bars: [],
        markers: [],
      };
      lanes.set(name, l);
    }
    return l;
  };
  for (const s of steps) lane(s.name);

  const first = history[0] ? timeOf(history[0].at, nowMs) : nowMs;
  let last = first;
  const open = (l: Lane, kind: BarKind): Bar | undefined =>
    [...l.bars].reverse().find((b) => b.kind === kind && b.open);
  const start = (l: Lane, kind: BarKind, at: number): Bar => {
    const bar: Bar = {
      step: l.step,
      kind,
      startMs: at,
      endMs: at,
      open: true,
      outcome: kind === 'forward' ? 'RUNNING' : 'COMPENSATING',
      reason: null,
      attempts: 1,
      overlaps: [],
    };
    l.bars.push(bar);
    return bar;
  };
  const end = (l: Lane, kind: BarKind, at: number, outcome: BarOutcome, reason: string | null): void => {
    // An end without its start (a history cut short): a run of no length at the end event.
    const bar = open(l, kind) ?? start(l, kind, at);
    bar.endMs = at;
    bar.open = false;
    bar.outcome = outcome;
    bar.reason = reason;
  };

  for (const e of history) {
    const at = timeOf(e.at, last);
    last = Math.max(last, at);
    if (e.step === undefined) continue;
    const l = lane(e.step);
    const reason = e.reason ?? null;
    const forwardEnd = FORWARD_END[e.type];
    const compensationEnd = COMPENSATION_END[e.type];
    const marker = MARKERS[e.type];
    if (e.type === 'STEP_STARTED') {
      l.forwardRuns += 1;
      start(l, 'forward', at);
    } else if (forwardEnd) {
      end(l, 'forward', at, forwardEnd, reason);
    } else if (e.type === 'STEP_COMPENSATING') {
      l.compensationAttempts += 1;
      start(l, 'compensation', at);
    } else if (e.type === 'SAGA_RESUMED') {
      // A FAILED saga whose compensation was confirmed after all (e.g. after a redrive).
      l.markers.push({ step: l.step, kind: 'resumed', type: e.type, atMs: at, reason });
      start(l, 'compensation', at);
    } else if (compensationEnd) {
      end(l, 'compensation', at, compensationEnd, reason);
    } else if (marker) {
      l.markers.push({ step: l.step, kind: marker, type: e.type, atMs: at, reason });
      if (marker === 'retried') {
        l.compensationAttempts += 1;
        const bar = open(l, 'compensation');
        if (bar) bar.attempts += 1;
      }
    }
  }

  const all = [...lanes.values()];
  let endMs = last;
  for (const b of all.flatMap((l) => l.bars)) {
    if (b.open) b.endMs = Math.max(b.startMs, nowMs);
    endMs = Math.max(endMs, b.endMs);
  }

  // Runs of different steps overlap when each starts before the other ends (a step starting at the instant the
  // previous one ended does not overlap it).
  const bars = all.flatMap((l) => l.bars);
  const overlapping = (a: Bar, b: Bar): boolean =>
    a.step !== b.step && a.startMs < b.endMs && b.startMs < a.endMs;
  for (const a of bars) {
    a.overlaps = [...new Set(bars.filter((b) => overlapping(a, b)).map((b) => b.step))];
  }

  const order = all.map((l) => l.step);
  const groupOf = new Map<string, Set<string>>();
  for (const a of bars) {
    for (const other of a.overlaps) {
      const g = new Set([...(groupOf.get(a.step) ?? [a.step]), ...(groupOf.get(other) ?? [other])]);
      for (const s of g) groupOf.set(s, g);
    }
  }
  const parallel = [...new Set(groupOf.values())].map((g) =>
    [...g].sort((x, y) => order.indexOf(x) - order.indexOf(y)),
  );
  parallel.sort((x, y) => order.indexOf(x[0]!) - order.indexOf(y[0]!));

  return { startMs: first, endMs: Math.max(endMs, first), lanes: all, parallel };
}

/** Where `ms` falls on the timeline, in percent of its span (0–100). */
export function percentOf(t: Timeline, ms: number): number {
  const span = t.endMs - t.startMs;
  if (span <= 0) return 0;
  return Math.min(100, Math.max(0, ((ms - t.startMs) / span) * 100));
}

/** `412 ms`, `3.2 s`, `4 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
