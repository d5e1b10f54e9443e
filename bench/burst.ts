/**
 * The open-loop phases (bench/open-loop.ts drives them), each on the engine stack after the closed-loop run:
 *   - burst: N orders from 50 customers over 100 well-stocked SKUs, posted by 32 clients as fast as the api accepts;
 *   - hot customer: every order for one customer with ample credit (all must be approved);
 *   - hot SKU: 3× S orders for one SKU of stock S (exactly S approved, the rest OUT_OF_STOCK);
 *   - sustained: a fixed arrival rate of twice the closed-loop sagas/s of the same run, for a fixed time.
 * Each reports what the api did with the offered orders (202 / 429 / retries), how the sagas ended, the time to
 * drain, latency, and drainRatio = sagas/s while draining ÷ the closed-loop sagas/s.
 */
import type { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS } from '../shared/runtime/store/collections';
import type { BenchArgs } from './args';
import { costPer1000, functionCpuSeconds, type CostPer1000 } from './cost';
import { cpuSeconds, cpuSnapshot } from './cpu';
import { background, perSaga, type CostLine } from './logs';
import type { OrderRequest } from './load';
import { note } from './progress';
import { runOpenLoop, type Arrivals } from './open-loop';
import { mean, percentile, round } from './stats';

export const BURST_CUSTOMERS = 50;
export const BURST_SKUS = 100;
export const HOT_CUSTOMER = 'bench-hot-customer';
export const HOT_BURST_SKU = 'bench-hot-burst';
export const BURST_CREDIT_CENTS = 1_000_000_000;
export const BURST_STOCK = 1_000_000;
/** Orders for the hot SKU per unit of its stock. */
export const HOT_SKU_ORDERS_PER_STOCK = 3;

const PRICE = 1000;

export interface BurstPhaseFigures {
  /** How the orders arrived: posting clients, or a rate (orders/s) for `seconds`. */
  clients: number | null;
  ratePerSec: number | null;
  seconds: number | null;
  offered: number;
  accepted: number;
  /** 429 answers, and POSTs repeated (after a 429, a 5xx or a network error). */
  refused429: number;
  retries: number;
  abandoned: number;
  maxRetryAfterS: number | null;
  approved: number;
  rejected: Record<string, number>;
  stepTimeouts: number;
  failed: number;
  notTerminal: number;
  errors: number;
  deadLetters: number;
  /** First POST → last 202, and first POST → last terminal saga. */
  postingSeconds: number;
  drainSeconds: number;
  /** Terminal sagas ÷ drainSeconds, and that ÷ the closed-loop sagas/s of the same run. */
  sagasPerSec: number;
  drainRatio: number | null;
  p50Ms: number;
  p99Ms: number;
  /** Mean POST attempts per accepted order. */
  attemptsPerOrder: number;
  readsPerSaga: number;
  writesPerSaga: number;
  /** Reads and writes logged for no saga during the phase (sweeps, refused POSTs), per accepted saga. */
  backgroundReadsPerSaga: number;
  backgroundWritesPerSaga: number;
  cpuSeconds: Record<string, number>;
  /** The phase's own check (hot SKU: sold exactly its stock; hot customer: all approved, credit used = total). */
  check: { pass: boolean; detail: string } | null;
  cost: CostPer1000 | null;
}

export interface BurstResults {
  closedLoopSagasPerSec: number;
  burst: BurstPhaseFigures | null;
  hotCustomer: BurstPhaseFigures | null;
  hotSku: (BurstPhaseFigures & { stock: number; finalStock: number }) | null;
  sustained: BurstPhaseFigures | null;
}

const order = (customerId: string, sku: string): OrderRequest => ({
  customerId,
  items: [{ sku, quantity: 1, unitPriceCents: PRICE }],
  paymentToken: 'tok_visa',
});

const burstCustomer = (i: number): string => `bench-b-${i % BURST_CUSTOMERS}`;
const burstSku = (i: number): string => `bench-bsku-${i % BURST_SKUS}`;
const hotSkuCustomer = (i: number): string => `bench-hs-${i}`;

/** Seed data of the open-loop phases. */
export function burstSeed(args: BenchArgs): {
  customers: { customerId: string; creditLimitCents: number }[];
  products: { sku: string; available: number }[];
} {
  const hotSkuOrders = args.hotSkuBurstStock * HOT_SKU_ORDERS_PER_STOCK;
  return {
    customers: [
      ...Array.from({ length: BURST_CUSTOMERS }, (_, i) => burstCustomer(i)),
      HOT_CUSTOMER,
      ...Array.from({ length: args.skipHotSkuBurst ? 0 : hotSkuOrders }, (_, i) => hotSkuCustomer(i)),
    ].map((customerId) => ({ customerId, creditLimitCents: BURST_CREDIT_CENTS })),
    products: [
      ...Array.from({ length: BURST_SKUS }, (_, i) => ({ sku: burstSku(i), available: BURST_STOCK })),
      ...(args.skipHotSkuBurst ? [] : [{ sku: HOT_BURST_SKU, available: args.hotSkuBurstStock }]),
    ],
  };
}

/** What the phases' remaining figures come from, once the stack has stopped. */
export interface PhaseLogs {
  /** The function log's cost lines. */
  lines: readonly CostLine[];
  /** Documents with a TTL (inbox records, claims; not Idempotency-Key records) per saga, counted in Firestore. */
  ttlDocsPerSaga: number;
}

export interface BurstContext {
  apiUrl: string;
  db: Firestore;
  args: BenchArgs;
  closedLoopSagasPerSec: number;
  /** Per-message Pub/Sub figures of the closed-loop run (the open-loop phases have no tap). */
  messagesPerSaga: number;
  messageBytes: number;
}

async function deadLetterCount(db: Firestore): Promise<number> {
  return (await db.collection(COLLECTIONS.deadLetters).count().get()).data().count;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as Record<string, unknown>;
}

/** Runs one open-loop phase and computes its figures (the check is added by the caller). */
async function phase(
  ctx: BurstContext,
  label: string,
  orders: OrderRequest[],
  arrivals: Arrivals,
  seconds: number | null,
): Promise<{ figures: BurstPhaseFigures; fill: (logs: PhaseLogs) => void }> {
  const { args } = ctx;
  const deadBefore = await deadLetterCount(ctx.db);
  const cpu0 = cpuSnapshot();
  const run = await runOpenLoop({
    apiUrl: ctx.apiUrl,
    db: ctx.db,
    orders,
    arrivals,
    giveUpMs: args.giveUpSeconds * 1000,
    drainTimeoutMs: args.drainTimeoutSeconds * 1000,
    label,
  });
  const cpu = cpuSeconds(cpu0, cpuSnapshot());
  // Let a straggling compensation or dead letter land before counting them.
  await new Promise((r) => setTimeout(r, 1000));
  const deadLetters = (await deadLetterCount(ctx.db)) - deadBefore;
  for (const e of run.errors.slice(0, 5)) note(`  error: ${e}`);

  const done = run.finished;
  const rejected: Record<string, number> = {};
  for (const f of done) {
    if (f.sagaStatus === 'ABORTED')
      rejected[f.reason ?? 'UNKNOWN'] = (rejected[f.reason ?? 'UNKNOWN'] ?? 0) + 1;
  }
  const drainMs = Math.max(1, run.lastTerminalAt - run.firstPostAt);
  const sagasPerSec = (done.length * 1000) / drainMs;
  const latencies = done.map((f) => f.latencyMs);
  const approved = done.filter((f) => f.sagaStatus === 'SUCCEEDED').length;
  const figures: BurstPhaseFigures = {
    clients: 'clients' in arrivals ? arrivals.clients : null,
    ratePerSec: 'ratePerSec' in arrivals ? round(arrivals.ratePerSec, 2) : null,
    seconds,
    offered: run.offered,
    accepted: run.accepted,
    refused429: run.refused429,
    retries: run.retries,
    abandoned: run.abandoned,
    maxRetryAfterS: run.maxRetryAfterS,
    approved,
    rejected,
    stepTimeouts: rejected.STEP_TIMEOUT ?? 0,
    failed: done.filter((f) => f.sagaStatus === 'FAILED').length,
    notTerminal: run.notTerminal,
    errors: run.errors.length,
    deadLetters,
    postingSeconds: round((run.lastAcceptedAt - run.firstPostAt) / 1000, 1),
    drainSeconds: round(drainMs / 1000, 1),
    sagasPerSec: round(sagasPerSec, 2),
    drainRatio: ctx.closedLoopSagasPerSec > 0 ? round(sagasPerSec / ctx.closedLoopSagasPerSec, 2) : null,
    p50Ms: round(percentile(latencies, 50), 0),
    p99Ms: round(percentile(latencies, 99), 0),
    attemptsPerOrder: round(mean(done.map((f) => f.attempts)), 2),
    readsPerSaga: 0,
    writesPerSaga: 0,
    backgroundReadsPerSaga: 0,
    backgroundWritesPerSaga: 0,
    cpuSeconds: cpu,
    check: null,
    cost: null,
  };
  const ids = new Set(done.map((f) => f.orderId));
  /** The figures from the function logs, once they are complete (after the stack stopped). */
  const fill = ({ lines, ttlDocsPerSaga }: PhaseLogs): void => {
    const costs = perSaga(lines, ids);
    const bg = background(lines, run.firstPostAt, run.lastTerminalAt);
    const n = Math.max(1, ids.size);
    figures.readsPerSaga = costs.readsPerSaga;
    figures.writesPerSaga = costs.writesPerSaga;
    figures.backgroundReadsPerSaga = round(bg.reads / n, 2);
    figures.backgroundWritesPerSaga = round(bg.writes / n, 2);
    if (approved === 0) return;
    figures.cost = costPer1000({
      reads: costs.readsPerSaga + bg.reads / n,
      writes: costs.writesPerSaga + bg.writes / n,
      // The documents a TTL policy deletes later (billed as deletes): inbox records and claims, and here one
      // Idempotency-Key record per order.
      ttlDeletes: ttlDocsPerSaga + 1,
      messages: ctx.messagesPerSaga,
      messageBytes: ctx.messageBytes,
      // Deliveries and the POSTs that placed an order, plus every other POST (refused, repeated).
      invocations: costs.deliveriesPerSaga + (run.posts - run.accepted) / n,
      cpuSeconds: functionCpuSeconds(cpu) / n,
      handlerSeconds: (costs.handlerMsPerSaga + bg.handlerMs / n) / 1000,
    });
  };
  note(
    `${label}: ${figures.accepted}/${figures.offered} accepted, ${figures.refused429} × 429, ${approved} approved, ` +
      `${figures.stepTimeouts} STEP_TIMEOUT, ${figures.failed} FAILED, drained in ${figures.drainSeconds} s ` +
      `(${figures.sagasPerSec} sagas/s, drainRatio ${figures.drainRatio ?? '–'})`,
  );
  return { figures, fill };
}

/**
 * Runs the phases that are not skipped. `fill` adds the figures that come from the function logs (reads, writes,
 * cost): call it with the cost lines once the stack has stopped.
 */
export async function burstPhases(
  ctx: BurstContext,
): Promise<{ results: BurstResults; fill: (logs: PhaseLogs) => void }> {
  const { args } = ctx;
  const fills: ((logs: PhaseLogs) => void)[] = [];
  const run = async (
    label: string,
    orders: OrderRequest[],
    arrivals: Arrivals,
    seconds: number | null,
  ): Promise<BurstPhaseFigures> => {
    const p = await phase(ctx, label, orders, arrivals, seconds);
    fills.push(p.fill);
    return p.figures;
  };
  const out: BurstResults = {
    closedLoopSagasPerSec: ctx.closedLoopSagasPerSec,
    burst: null,
    hotCustomer: null,
    hotSku: null,
    sustained: null,
  };
  const clients = { clients: args.burstClients };

  if (!args.skipBurst) {
    const orders = Array.from({ length: args.burst }, (_, i) => order(burstCustomer(i), burstSku(i)));
    out.burst = await run('burst', orders, clients, null);
  }

  if (!args.skipHotCustomer) {
    const before = Number((await getJson(`${ctx.apiUrl}/customers/${HOT_CUSTOMER}`)).creditUsedCents);
    const orders = Array.from({ length: args.hotCustomerBurst }, (_, i) => order(HOT_CUSTOMER, burstSku(i)));
    const figures = await run('hot customer', orders, clients, null);
    const used = Number((await getJson(`${ctx.apiUrl}/customers/${HOT_CUSTOMER}`)).creditUsedCents) - before;
    const pass =
      figures.approved === figures.accepted &&
      figures.notTerminal === 0 &&
      used === figures.approved * PRICE &&
      figures.failed === 0;
    figures.check = {
      pass,
      detail: `${figures.approved} of ${figures.accepted} accepted approved, credit used ${used} = ${figures.approved} × ${PRICE}: ${pass ? 'PASS' : 'FAIL'}`,
    };
    out.hotCustomer = figures;
  }

  if (!args.skipHotSkuBurst) {
    const stock = args.hotSkuBurstStock;
    const orders = Array.from({ length: stock * HOT_SKU_ORDERS_PER_STOCK }, (_, i) =>
      order(hotSkuCustomer(i), HOT_BURST_SKU),
    );
    const figures = await run('hot SKU burst', orders, clients, null);
    const finalStock = Number((await getJson(`${ctx.apiUrl}/inventory/${HOT_BURST_SKU}`)).available);
    const others = Object.entries(figures.rejected)
      .filter(([reason]) => reason !== 'OUT_OF_STOCK')
      .reduce((s, [, v]) => s + v, 0);
    const soldOut = figures.accepted >= stock;
    const pass =
      (soldOut ? figures.approved === stock && finalStock === 0 : figures.approved === figures.accepted) &&
      others === 0 &&
      figures.failed === 0 &&
      figures.notTerminal === 0;
    figures.check = {
      pass,
      detail: `stock ${stock}, ${figures.accepted} accepted: ${figures.approved} approved, ${figures.rejected.OUT_OF_STOCK ?? 0} OUT_OF_STOCK, ${others} other rejections, final stock ${finalStock}: ${pass ? 'PASS' : 'FAIL'}`,
    };
    out.hotSku = Object.assign(figures, { stock, finalStock }); // the same object: fill() completes it later
  }

  if (!args.skipSustained) {
    const rate = args.sustainedRate ?? 2 * ctx.closedLoopSagasPerSec;
    if (rate > 0) {
      const n = Math.max(1, Math.round(rate * args.sustainedSeconds));
      const orders = Array.from({ length: n }, (_, i) => order(burstCustomer(i), burstSku(i)));
      out.sustained = await run('sustained', orders, { ratePerSec: rate }, args.sustainedSeconds);
    }
  }
  return {
    results: out,
    fill: (logs) => {
      for (const f of fills) f(logs);
    },
  };
}
