/** The benchmark's outputs: the result object, the table on stdout, and the SVG latency histogram. */
import type { ProfileSummary } from './cpuprofile';
import type { FunctionProfile } from './logs';
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
  writesPerSaga: number;
  transactionsPerSaga: number;
  approved: number;
  errors: number;
  cpuSeconds: Record<string, number>;
  profile: Record<string, FunctionProfile>;
}

export interface BenchResult {
  date: string;
  machine: { cpus: number; memGiB: number; loadavgBefore: number[]; loadavgAfter: number[]; node: string };
  orders: number;
  concurrency: number;
  sagasPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  messagesPerSaga: number;
  writesPerSaga: number;
  floorSagasPerSec: number | null;
  ratioToFloor: number | null;
  hotSku: HotSkuResult | null;
  writesByFunction: Record<string, number>;
  transactionsPerSaga: number;
  txAttemptsPerSaga: number;
  engine: RunFigures;
  floor: RunFigures | null;
  /** With --cpu-prof: each engine function's CPU self time by where the code lives (whole engine stack lifetime). */
  cpuProfile: Record<string, ProfileSummary> | null;
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
    `Saga benchmark ${r.date}: ${r.orders} orders at concurrency ${r.concurrency}; ` +
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
  lines.push(pad(['writes per saga (code)', f(e.writesPerSaga, 2), f(fl?.writesPerSaga, 2), ''], w));
  lines.push(
    pad(['transactions per saga', f(e.transactionsPerSaga, 2), f(fl?.transactionsPerSaga, 2), ''], w),
  );
  lines.push(
    pad(['approved / errors', `${e.approved}/${e.errors}`, fl ? `${fl.approved}/${fl.errors}` : '–', ''], w),
  );
  lines.push('');
  lines.push(
    `writes per saga by function: ${Object.entries(r.writesByFunction)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
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
  return lines.join('\n');
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
