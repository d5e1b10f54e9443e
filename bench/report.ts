/** The benchmark's outputs: the result object, the table on stdout, and the SVG latency histogram. */
import type { BurstPhaseFigures, BurstResults } from './burst';
import type { CostPer1000 } from './cost';
import type { ProfileSummary } from './cpuprofile';
import type { FunctionProfile } from './logs';
import type { TracingPhaseResult } from './tracing';
import type { TripPhaseResult } from './trips';
import { percentile, round } from './stats';

export interface HotSkuResult {
  stock: number;
  orders: number;
  concurrency: number;
  approved: number;
  rejected: number;
  /** Rejections that were not OUT_OF_STOCK (should be 0). */
  otherRejections: number;
  failed: number;
  errors: number;
  deadLetters: number;
  finalStock: number;
  ordersPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Length of the naive baseline's window (by default: as long as the hot phase took). */
  naiveSeconds: number;
  naiveTxPerSec: number;
  /** Commits within the window. */
  naiveCommitted: number;
  naiveFailed: number;
  ratioToNaive: number;
  /** Transactions per hot-SKU saga, and their attempts: equal when no transaction was aborted and re-run. */
  transactionsPerSaga: number;
  txAttemptsPerSaga: number;
  pollsPerOrder: number;
  cpuSeconds: Record<string, number>;
  /** Where the hot phase's time went, per function. */
  profile: Record<string, FunctionProfile>;
  /** Sold exactly its stock, no dead letters, no FAILED saga, every order terminal. */
  pass: boolean;
}

export interface RunFigures {
  sagasPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  postP50Ms: number;
  /** GET /orders/{id} polls per order (the driver's own load). */
  pollsPerOrder: number;
  messagesPerSaga: number;
  /** Mean size of a message as Pub/Sub bills it (before the 1000-byte minimum per request), bytes. */
  messageBytes: number;
  /** Document reads per saga, counted by the code (shared/runtime/metrics.ts), like the writes. */
  readsPerSaga: number;
  writesPerSaga: number;
  transactionsPerSaga: number;
  approved: number;
  errors: number;
  cpuSeconds: Record<string, number>;
  profile: Record<string, FunctionProfile>;
}

export interface BenchResult {
  date: string;
  /** Wall time of the whole run (emulators, stacks, every phase). */
  runSeconds: number;
  machine: { cpus: number; memGiB: number; loadavgBefore: number[]; loadavgAfter: number[]; node: string };
  orders: number;
  concurrency: number;
  sagasPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  messagesPerSaga: number;
  readsPerSaga: number;
  writesPerSaga: number;
  floorSagasPerSec: number | null;
  ratioToFloor: number | null;
  hotSku: HotSkuResult | null;
  writesByFunction: Record<string, number>;
  readsByFunction: Record<string, number>;
  transactionsPerSaga: number;
  txAttemptsPerSaga: number;
  /** The open-loop phases: burst, hotCustomer, hotSku, sustained (each null when skipped). */
  burst: BurstResults | null;
  /** $ per 1,000 successful sagas at list prices, from the closed-loop engine run (bench/cost.ts). */
  cost: CostPer1000;
  engine: RunFigures;
  floor: RunFigures | null;
  /** With --cpu-prof: each engine function's CPU self time by where the code lives (whole engine stack lifetime). */
  cpuProfile: Record<string, ProfileSummary> | null;
  /** trip-booking v1 against v2 (null when skipped). */
  trips: TripPhaseResult | null;
  /** Tracing on against off (null when skipped). */
  tracing: TracingPhaseResult | null;
  files: { json: string; svg: string };
}

export function latencyFigures(latencies: readonly number[]): Pick<RunFigures, 'p50Ms' | 'p95Ms' | 'p99Ms'> {
  return {
    p50Ms: round(percentile(latencies, 50), 0),
    p95Ms: round(percentile(latencies, 95), 0),
    p99Ms: round(percentile(latencies, 99), 0),
  };
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

const f = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);

export function table(r: BenchResult): string {
  const e = r.engine;
  const fl = r.floor;
  const lines: string[] = [];
  lines.push(
    `Saga benchmark ${r.date} (${Math.round(r.runSeconds / 60)} min): ${r.orders} orders at concurrency ${r.concurrency}; ` +
      `${r.machine.cpus} cores, ${r.machine.memGiB} GiB, load average ${r.machine.loadavgBefore.map((l) => l.toFixed(1)).join(' ')} before, ` +
      `${r.machine.loadavgAfter.map((l) => l.toFixed(1)).join(' ')} after`,
  );
  lines.push('');
  const w = [30, 10, 10, 8];
  lines.push(pad(['', 'engine', 'floor', 'ratio'], w));
  lines.push(pad(['sagas/s', f(e.sagasPerSec), f(fl?.sagasPerSec), f(r.ratioToFloor, 2)], w));
  for (const [label, key] of [
    ['latency p50 ms', 'p50Ms'],
    ['latency p95 ms', 'p95Ms'],
    ['latency p99 ms', 'p99Ms'],
    ['POST /orders p50 ms', 'postP50Ms'],
  ] as const) {
    lines.push(pad([label, f(e[key], 0), f(fl?.[key], 0), ''], w));
  }
  lines.push(pad(['GET polls per order', f(e.pollsPerOrder), f(fl?.pollsPerOrder), ''], w));
  lines.push(pad(['messages per saga (wire)', f(e.messagesPerSaga, 2), f(fl?.messagesPerSaga, 2), ''], w));
  lines.push(pad(['reads per saga (code)', f(e.readsPerSaga, 2), f(fl?.readsPerSaga, 2), ''], w));
  lines.push(pad(['writes per saga (code)', f(e.writesPerSaga, 2), f(fl?.writesPerSaga, 2), ''], w));
  lines.push(
    pad(['transactions per saga', f(e.transactionsPerSaga, 2), f(fl?.transactionsPerSaga, 2), ''], w),
  );
  lines.push(
    pad(['approved / errors', `${e.approved}/${e.errors}`, fl ? `${fl.approved}/${fl.errors}` : '–', ''], w),
  );
  lines.push('');
  const byFn = (m: Record<string, number>): string =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  lines.push(`writes per saga by function: ${byFn(r.writesByFunction)}`);
  lines.push(`reads per saga by function:  ${byFn(r.readsByFunction)}`);
  const h = r.hotSku;
  if (h) {
    lines.push('');
    lines.push(
      `Hot SKU: stock ${h.stock}, ${h.orders} orders (distinct customers) at concurrency ${h.concurrency}: ` +
        `${h.approved} approved, ${h.rejected} rejected (${h.otherRejections} not OUT_OF_STOCK), ${h.failed} FAILED, ` +
        `${h.errors} errors, ${h.deadLetters} dead letters, final stock ${h.finalStock} → ${h.pass ? 'PASS' : 'FAIL'}`,
    );
    lines.push(
      `  ${f(h.ordersPerSec)} orders/s (p50 ${f(h.p50Ms, 0)} ms, p99 ${f(h.p99Ms, 0)} ms) vs naive read-modify-write on one ` +
        `document at the same concurrency for ${h.naiveSeconds} s: ${f(h.naiveTxPerSec, 2)} tx/s (${h.naiveCommitted} committed in it, ` +
        `${h.naiveFailed} failed after retries) → ratio ${f(h.ratioToNaive)}`,
    );
    lines.push(
      `  transactions per hot-SKU saga ${f(h.transactionsPerSaga, 2)}, attempts ${f(h.txAttemptsPerSaga, 2)} ` +
        (h.txAttemptsPerSaga > h.transactionsPerSaga ? '(some were aborted and re-run)' : '(none aborted)'),
    );
  }
  if (r.burst) lines.push('', ...burstTable(r.burst));
  lines.push('', ...costLines('closed-loop run', r.cost));
  const bc = r.burst?.burst?.cost;
  if (bc) lines.push(...costLines('burst phase, 429s and retries included', bc));
  lines.push('');
  lines.push(
    'Where the time goes (per delivery, ms: p50 / mean; queued = publish → push handler start; hot = hot-SKU phase)',
  );
  const pw = [18, 6, 14, 14, 14, 14, 14];
  lines.push(pad(['function', 'n', 'queued', 'handler', 'transaction', 'publish', 'mark sent'], pw));
  const ph = (s: { p50: number; mean: number } | null): string => (s ? `${f(s.p50)} / ${f(s.mean)}` : '–');
  for (const [label, prof] of [
    ['', e.profile],
    ['floor ', fl?.profile ?? {}],
    ['hot ', h?.profile ?? {}],
  ] as const) {
    for (const [fn, p] of Object.entries(prof)) {
      lines.push(
        pad(
          [
            `${label}${fn}`,
            String(p.deliveries),
            ph(p.queuedMs),
            ph(p.handlerMs),
            ph(p.txMs),
            ph(p.publishMs),
            ph(p.markSentMs),
          ],
          pw,
        ),
      );
    }
  }
  lines.push('');
  const cpu = (c: Record<string, number>): string =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  lines.push(`CPU seconds, engine run: ${cpu(e.cpuSeconds)}`);
  if (fl) lines.push(`CPU seconds, floor run:  ${cpu(fl.cpuSeconds)}`);
  if (h) lines.push(`CPU seconds, hot SKU:    ${cpu(h.cpuSeconds)}`);
  if (r.cpuProfile) {
    lines.push('');
    lines.push('CPU profiles (self ms by where the code lives, whole engine stack lifetime):');
    for (const [fn, p] of Object.entries(r.cpuProfile)) {
      const top = Object.entries(p.byCategory)
        .slice(0, 8)
        .map(([k, v]) => `${k} ${Math.round((v / Math.max(1, p.busyMs)) * 100)}%`)
        .join(', ');
      lines.push(`  ${fn} (${p.busyMs} ms busy): ${top}`);
    }
  }
  lines.push('');
  lines.push(`Results: ${r.files.json}, histogram ${r.files.svg}`);
  const t = r.trips;
  if (t) {
    lines.push('');
    lines.push(
      `trip-booking v1 (hotel, then car) vs v2 (hotel ∥ car): ${t.trips} trips each, concurrency ${t.concurrency}, ${t.rounds} interleaved rounds`,
    );
    const tw = [30, 10, 10, 8];
    lines.push(pad(['', 'v1', 'v2', 'v2/v1'], tw));
    lines.push(pad(['trips/s', f(t.v1.sagasPerSec, 2), f(t.v2.sagasPerSec, 2), f(t.throughputRatio, 2)], tw));
    for (const [label, key] of [
      ['latency p50 ms', 'p50Ms'],
      ['latency p95 ms', 'p95Ms'],
      ['latency p99 ms', 'p99Ms'],
      ['saga duration p50 ms', 'sagaP50Ms'],
    ] as const) {
      lines.push(
        pad([label, f(t.v1[key], 0), f(t.v2[key], 0), f(t.v2[key] / Math.max(1, t.v1[key]), 2)], tw),
      );
    }
    lines.push(
      pad(['messages per trip (wire)', f(t.v1.messagesPerSaga, 2), f(t.v2.messagesPerSaga, 2), ''], tw),
    );
    lines.push(
      pad(
        ['confirmed / errors', `${t.v1.succeeded}/${t.v1.errors}`, `${t.v2.succeeded}/${t.v2.errors}`, ''],
        tw,
      ),
    );
    lines.push(
      `p50 cut by the parallel group: ${Math.round(t.p50Cut * 100)} % POST → terminal, ` +
        `${Math.round(t.sagaP50Cut * 100)} % of the saga's own duration (issue 11 asks for at least 20 %)`,
    );
  }
  const tr = r.tracing;
  if (tr) {
    lines.push('');
    lines.push(
      `tracing on (as npm start runs it) vs SAGA_TRACING=off: ${tr.orders} orders each, concurrency ${tr.concurrency}, ${tr.rounds} interleaved rounds`,
    );
    const w2 = [30, 10, 10, 8];
    lines.push(pad(['', 'on', 'off', 'on/off'], w2));
    lines.push(
      pad(
        ['sagas/s', f(tr.traced.sagasPerSec, 2), f(tr.untraced.sagasPerSec, 2), f(tr.throughputRatio, 3)],
        w2,
      ),
    );
    for (const [label, key] of [
      ['latency p50 ms', 'p50Ms'],
      ['latency p99 ms', 'p99Ms'],
    ] as const) {
      lines.push(
        pad(
          [
            label,
            f(tr.traced[key], 0),
            f(tr.untraced[key], 0),
            f(tr.traced[key] / Math.max(1, tr.untraced[key]), 2),
          ],
          w2,
        ),
      );
    }
    lines.push(
      pad(
        [
          'approved / errors',
          `${tr.traced.succeeded}/${tr.traced.errors}`,
          `${tr.untraced.succeeded}/${tr.untraced.errors}`,
          '',
        ],
        w2,
      ),
    );
  }
  return lines.join('\n');
}

const usd = (v: number): string => `$${v.toFixed(4)}`;

/** The cost of 1,000 sagas, item by item. */
function costLines(what: string, c: CostPer1000): string[] {
  const u = c.usage;
  return [
    `Cost per 1,000 successful sagas at list prices (${what}; bench/cost.ts): ` +
      `${usd(c.totalByCpu)} with compute billed as CPU used, ${usd(c.totalByRequest)} billed by request time ` +
      `(Step Functions Standard, 10 transitions: ${usd(c.stepFunctions)})`,
    `  Firestore ${f(u.reads, 1)} reads ${usd(c.firestoreReads)}, ${f(u.writes, 1)} writes ${usd(c.firestoreWrites)}, ` +
      `${f(u.ttlDeletes, 1)} TTL deletes ${usd(c.firestoreDeletes)}; Pub/Sub ${f(u.messages, 1)} messages of ` +
      `${f(u.messageBytes, 0)} B ${usd(c.pubsub)}; ${f(u.invocations, 1)} invocations ${usd(c.invocations)}; ` +
      `compute ${f(u.cpuSeconds * 1000, 0)} ms CPU ${usd(c.computeByCpu)} or ${f(u.handlerSeconds * 1000, 0)} ms ` +
      `in handlers ${usd(c.computeByRequest)} (per saga)`,
  ];
}

/** The open-loop phases side by side. */
function burstTable(b: BurstResults): string[] {
  const phases: [string, BurstPhaseFigures | null][] = [
    ['burst', b.burst],
    ['hot customer', b.hotCustomer],
    ['hot SKU', b.hotSku],
    ['sustained', b.sustained],
  ];
  const shown = phases.filter((p): p is [string, BurstPhaseFigures] => p[1] !== null);
  if (shown.length === 0) return [];
  const w = [34, ...shown.map(() => 14)];
  const row = (label: string, cell: (p: BurstPhaseFigures) => string): string =>
    pad([label, ...shown.map(([, p]) => cell(p))], w);
  const out = [
    `Open loop (a 429 is retried after Retry-After with the same Idempotency-Key); closed-loop sagas/s ${f(b.closedLoopSagasPerSec, 2)}`,
    pad(['', ...shown.map(([name]) => name)], w),
    row('arrivals', (p) =>
      p.clients !== null ? `${p.clients} clients` : `${f(p.ratePerSec, 1)}/s×${p.seconds}s`,
    ),
    row('offered', (p) => String(p.offered)),
    row('accepted (202)', (p) => String(p.accepted)),
    row('429 answers / retries', (p) => `${p.refused429}/${p.retries}`),
    row('abandoned / errors', (p) => `${p.abandoned}/${p.errors}`),
    row('max Retry-After s', (p) => f(p.maxRetryAfterS, 0)),
    row('approved', (p) => String(p.approved)),
    row('rejected', (p) => String(Object.values(p.rejected).reduce((s, v) => s + v, 0))),
    row('  of which STEP_TIMEOUT (target 0)', (p) => String(p.stepTimeouts)),
    row('FAILED (target 0)', (p) => String(p.failed)),
    row('not terminal / dead letters', (p) => `${p.notTerminal}/${p.deadLetters}`),
    row('posting s (first POST → last 202)', (p) => f(p.postingSeconds)),
    row('drain s (first POST → last end)', (p) => f(p.drainSeconds)),
    row('sagas/s while draining', (p) => f(p.sagasPerSec, 2)),
    row('drainRatio (target ≥ 0.9)', (p) => f(p.drainRatio, 2)),
    row('latency p50 / p99 ms', (p) => `${f(p.p50Ms, 0)}/${f(p.p99Ms, 0)}`),
    row('POST attempts per order', (p) => f(p.attemptsPerOrder, 2)),
    row('reads / writes per saga', (p) => `${f(p.readsPerSaga, 1)}/${f(p.writesPerSaga, 1)}`),
    row(
      '  + for no saga (sweeps, 429s)',
      (p) => `${f(p.backgroundReadsPerSaga, 1)}/${f(p.backgroundWritesPerSaga, 1)}`,
    ),
    row('$ per 1,000 (CPU / request)', (p) =>
      p.cost ? `${p.cost.totalByCpu.toFixed(3)}/${p.cost.totalByRequest.toFixed(3)}` : '–',
    ),
  ];
  for (const [name, p] of shown) {
    const reasons = Object.entries(p.rejected)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push(`  ${name}: rejected by reason: ${reasons || 'none'}` + (p.check ? `; ${p.check.detail}` : ''));
  }
  for (const [name, p] of shown) {
    out.push(
      `  CPU seconds, ${name}: ${Object.entries(p.cpuSeconds)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  return out;
}

/** A hand-written SVG histogram of saga latencies (engine bars, floor outline), with p50/p95/p99 markers. */
export function histogramSvg(
  engine: readonly number[],
  floor: readonly number[] | null,
  title: string,
  subtitle: string,
): string {
  const W = 760;
  const H = 400;
  const m = { left: 56, right: 20, top: 80, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = [...engine, ...(floor ?? [])];
  const max = Math.max(1, percentile(all, 99.5) * 1.05);
  const step = niceStep(max / 45);
  const bins = Math.max(1, Math.ceil(max / step));
  const count = (values: readonly number[]): number[] => {
    const c = new Array<number>(bins).fill(0);
    for (const v of values) c[Math.min(bins - 1, Math.max(0, Math.floor(v / step)))]! += 1;
    return c;
  };
  const ce = count(engine);
  const cf = floor ? count(floor) : null;
  const top = Math.max(1, ...ce, ...(cf ?? []));
  const x = (v: number): number => m.left + (v / (bins * step)) * pw;
  const y = (n: number): number => m.top + ph - (n / top) * ph;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${m.left}" y="40" fill="#555">${esc(subtitle)}</text>`);
  ce.forEach((n, i) => {
    if (n === 0) return;
    const x0 = x(i * step);
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${y(n).toFixed(1)}" width="${Math.max(1, x((i + 1) * step) - x0 - 1).toFixed(1)}" height="${(m.top + ph - y(n)).toFixed(1)}" fill="#4c78a8"/>`,
    );
  });
  if (cf) {
    const pts = cf.flatMap((n, i) => [
      `${x(i * step).toFixed(1)},${y(n).toFixed(1)}`,
      `${x((i + 1) * step).toFixed(1)},${y(n).toFixed(1)}`,
    ]);
    out.push(
      `<polyline points="${x(0).toFixed(1)},${y(0).toFixed(1)} ${pts.join(' ')} ${x(bins * step).toFixed(1)},${y(0).toFixed(1)}" fill="none" stroke="#f58518" stroke-width="2"/>`,
    );
  }
  // axes and ticks
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`);
  const xt = niceStep((bins * step) / 8);
  for (let v = 0; v <= bins * step + 1e-9; v += xt) {
    out.push(
      `<line x1="${x(v).toFixed(1)}" y1="${m.top + ph}" x2="${x(v).toFixed(1)}" y2="${m.top + ph + 5}" stroke="#333"/>`,
    );
    out.push(
      `<text x="${x(v).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle">${round(v, 0)}</text>`,
    );
  }
  out.push(
    `<text x="${m.left + pw / 2}" y="${H - 8}" text-anchor="middle">saga latency, ms (POST → terminal)</text>`,
  );
  const yt = Math.max(1, niceStep(top / 5));
  for (let n = 0; n <= top; n += yt) {
    out.push(`<text x="${m.left - 8}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${n}</text>`);
  }
  out.push(
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">sagas per ${round(step, 0)} ms bin</text>`,
  );
  // percentile markers (engine)
  const markers: [string, number][] = [
    ['p50', percentile(engine, 50)],
    ['p95', percentile(engine, 95)],
    ['p99', percentile(engine, 99)],
  ];
  markers.forEach(([label, v], i) => {
    const xv = x(Math.min(v, bins * step));
    out.push(
      `<line x1="${xv.toFixed(1)}" y1="${m.top}" x2="${xv.toFixed(1)}" y2="${m.top + ph}" stroke="#c00" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<text x="${(xv + 3).toFixed(1)}" y="${m.top + 12 + i * 14}" fill="#c00">${label} ${round(v, 0)} ms</text>`,
    );
  });
  // legend, between the subtitle and the plot
  out.push(`<rect x="${m.left}" y="52" width="12" height="12" fill="#4c78a8"/>`);
  out.push(`<text x="${m.left + 18}" y="62">engine (order saga)</text>`);
  if (cf) {
    out.push(
      `<line x1="${m.left + 160}" y1="58" x2="${m.left + 172}" y2="58" stroke="#f58518" stroke-width="2"/>`,
    );
    out.push(`<text x="${m.left + 178}" y="62">floor (echo functions, same hops and transactions)</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 1, 2 or 5 × a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const k of [1, 2, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}
