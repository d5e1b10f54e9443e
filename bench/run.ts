/**
 * `npm run bench`: saga throughput and latency against the floor of the emulators, and the hot-SKU case.
 *
 *   1. starts both emulators on free ports (its own, never a running `npm start`'s);
 *   2. starts two stacks on them: the floor — the whole harness with echo functions (bench/floor-functions.ts): same
 *      hops, same number of transactions, no business logic — and the engine (startStack like the end-to-end
 *      tests, seeded);
 *   3. warms both up, then runs the same orders at the same concurrency on both, interleaved in rounds, with a tap
 *      subscription on every source topic counting messages per saga;
 *   4. hot SKU: 2× its stock in orders for one SKU (distinct customers) — must sell exactly its stock;
 *   5. naive baseline: plain read-modify-write transactions on one document at the hot concurrency, for as long
 *      as the hot phase took;
 *   6. the open-loop phases (bench/burst.ts): a burst, a hot-customer burst, a hot-SKU burst, and a sustained
 *      arrival rate of twice the closed-loop sagas/s, each honouring 429 + Retry-After;
 *   7. reads the functions' per-message cost lines (reads, writes, transactions, phase timings) from the stack's log
 *      file, and prices a saga at Google Cloud list prices (bench/cost.ts);
 *   8. the trip phase (bench/trips.ts): trip-booking v1 against v2 on two fresh stacks, interleaved in rounds;
 *   9. the tracing phase (bench/tracing.ts): the same orders with tracing on and off, interleaved;
 *  10. prints a table (stdout; with --json the JSON result is the last line), writes bench/results/<ts>.json + .svg
 *      and copies them to latest.json / latest.svg.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { firestoreClient, pubsubClient } from '../emulator/clients';
import { startEmulators, type EmulatorsHandle } from '../emulator/emulators';
import { repoRoot } from '../emulator/repo';
import { startStack, type Stack } from '../emulator/stack';
import { COLLECTIONS, TTL_FIELDS } from '../shared/runtime/store/collections';
import { ArgsError, parseArgs, type BenchArgs } from './args';
import { burstPhases, burstSeed, type BurstResults, type PhaseLogs } from './burst';
import { costPer1000, functionCpuSeconds, type CostPer1000 } from './cost';
import { cpuSeconds, cpuSnapshot } from './cpu';
import { summarizeDir, type ProfileSummary } from './cpuprofile';
import { background, perSaga, profile, readCostLines, type PerSaga } from './logs';
import { runLoad, type LoadResult, type OrderRequest } from './load';
import { naiveHotDocument } from './naive';
import { note, Progress } from './progress';
import {
  histogramSvg,
  latencyFigures,
  table,
  type BenchResult,
  type HotSkuResult,
  type RunFigures,
} from './report';
import { mean, percentile, round } from './stats';
import { projectId, stackEnv } from './stacks';
import { tracingPhase, type TracingPhaseResult } from './tracing';
import { tripPhase, type TripPhaseResult } from './trips';
import { Tap } from './tap';

const SKUS = 128;
const HOT_SKU = 'bench-hot';
const PRICE = 1000;
const NAIVE_MIN_SECONDS = 30;

const order = (customerId: string, sku: string): OrderRequest => ({
  customerId,
  items: [{ sku, quantity: 1, unitPriceCents: PRICE }],
  paymentToken: 'tok_visa',
});

/** Low contention: a distinct customer per order, SKUs spread over SKUS products. */
function mainOrders(prefix: string, n: number): OrderRequest[] {
  return Array.from({ length: n }, (_, i) => order(`${prefix}-${i}`, `bench-sku-${i % SKUS}`));
}

function seedFile(args: BenchArgs): string {
  const open = burstSeed(args);
  const customers = [
    ...Array.from({ length: args.warmup }, (_, i) => `bench-w-${i}`),
    ...Array.from({ length: args.orders }, (_, i) => `bench-c-${i}`),
    ...Array.from({ length: args.hotStock * 2 }, (_, i) => `bench-h-${i}`),
  ]
    .map((customerId) => ({ customerId, creditLimitCents: 100_000_000 }))
    .concat(open.customers);
  const products = [
    ...Array.from({ length: SKUS }, (_, i) => ({ sku: `bench-sku-${i}`, available: 1_000_000 })),
    ...(args.hotStock > 0 ? [{ sku: HOT_SKU, available: args.hotStock }] : []),
    ...open.products,
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-bench-'));
  const file = path.join(dir, 'seed.json');
  fs.writeFileSync(file, JSON.stringify({ customers, products }));
  return file;
}

async function load(
  label: string,
  apiUrl: string,
  orders: OrderRequest[],
  concurrency: number,
): Promise<LoadResult> {
  const bar = new Progress(label, orders.length);
  const r = await runLoad({ apiUrl, orders, concurrency, onProgress: (d) => bar.update(d) });
  bar.finish(`${r.perSec.toFixed(1)} sagas/s${r.errors.length > 0 ? `, ${r.errors.length} errors` : ''}`);
  for (const e of r.errors.slice(0, 5)) note(`  error: ${e}`);
  return r;
}

/** One side of the comparison: a running stack, and what its measured chunks gave. */
interface Side {
  name: 'floor' | 'engine';
  stack: Stack;
  chunks: LoadResult[];
  cpu: Record<string, number>;
}

async function startFloor(emulators: EmulatorsHandle, args: BenchArgs): Promise<Stack> {
  note('floor: starting the harness with echo functions…');
  return startStack({
    env: await stackEnv(emulators, projectId('floor'), {
      SAGA_SEED_FILE: 'none',
      FLOOR_PAYMENT_TRANSACTIONS: String(args.floorPaymentTx),
    }),
    functionsSource: path.join(__dirname, 'floor-functions.js'),
  });
}

async function startEngine(
  emulators: EmulatorsHandle,
  args: BenchArgs,
  profDir: string | null,
): Promise<Stack> {
  note('engine: starting the stack…');
  return startStack({
    env: await stackEnv(emulators, projectId('engine'), {
      SAGA_SEED_FILE: seedFile(args),
      ...(profDir === null
        ? {}
        : {
            NODE_OPTIONS: `--require ${path.join(__dirname, 'cpu-profiler.js')}`,
            SAGA_BENCH_CPU_PROF_DIR: profDir,
          }),
    }),
  });
}

function pidsOf(stack: Stack): number[] {
  return Object.values(stack.pids()).filter((p): p is number => p !== undefined);
}

/**
 * The measured run, interleaved: the orders are split into `rounds` chunks and each side runs one chunk per round
 * (alternating which goes first), so a change of the machine's load during the run hits both sides alike.
 * Each chunk's CPU is counted without the other side's (idle) processes.
 */
async function interleaved(sides: Side[], orders: OrderRequest[], args: BenchArgs): Promise<void> {
  const size = Math.ceil(orders.length / args.rounds);
  for (let r = 0; r < args.rounds; r += 1) {
    const chunk = orders.slice(r * size, (r + 1) * size);
    if (chunk.length === 0) break;
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      const others = sides.filter((o) => o !== side).flatMap((o) => pidsOf(o.stack));
      const cpu0 = cpuSnapshot();
      const res = await load(
        `${side.name} ${r + 1}/${args.rounds}`,
        side.stack.apiUrl,
        chunk,
        args.concurrency,
      );
      for (const [k, v] of Object.entries(cpuSeconds(cpu0, cpuSnapshot(), new Set(others)))) {
        side.cpu[k] = round((side.cpu[k] ?? 0) + v, 1);
      }
      side.chunks.push(res);
    }
  }
}

/** A side's throughput over its chunks: orders / the sum of the chunks' spans. */
function sagasPerSecOf(side: Side): number {
  const n = side.chunks.reduce((s, c) => s + c.orders.length, 0);
  const spanMs = side.chunks.reduce((s, c) => s + c.spanMs, 0);
  return round((n * 1000) / Math.max(1, spanMs), 2);
}

const idsOf = (side: Side): Set<string> =>
  new Set(side.chunks.flatMap((c) => c.orders.map((o) => o.orderId)));

/** A side's figures over its chunks. */
function figuresOf(side: Side, tap: Tap): { figures: RunFigures; ids: Set<string>; latencies: number[] } {
  const results = side.chunks.flatMap((c) => c.orders);
  const ids = idsOf(side);
  const latencies = results.map((o) => o.latencyMs);
  const lines = readCostLines(side.stack.logFile);
  const costs = perSaga(lines, ids);
  return {
    ids,
    latencies,
    figures: {
      sagasPerSec: sagasPerSecOf(side),
      ...latencyFigures(latencies),
      meanMs: round(mean(latencies), 0),
      postP50Ms: round(
        percentile(
          results.map((o) => o.acceptedAt - o.startedAt),
          50,
        ),
        0,
      ),
      pollsPerOrder: round(mean(results.map((o) => o.polls)), 1),
      messagesPerSaga: round(tap.count(ids) / Math.max(1, ids.size), 2),
      messageBytes: round(tap.bytes(ids) / Math.max(1, tap.count(ids)), 0),
      readsPerSaga: costs.readsPerSaga,
      writesPerSaga: costs.writesPerSaga,
      transactionsPerSaga: costs.transactionsPerSaga,
      approved: results.filter((o) => o.status === 'APPROVED').length,
      errors: side.chunks.reduce((s, c) => s + c.errors.length, 0),
      cpuSeconds: side.cpu,
      profile: profile(lines, ids),
    },
  };
}

async function deadLetterCount(db: Firestore): Promise<number> {
  return (await db.collection(COLLECTIONS.deadLetters).get()).size;
}

async function hotSkuPhase(
  stack: Stack,
  db: Firestore,
  args: BenchArgs,
): Promise<{
  result: Omit<HotSkuResult, 'transactionsPerSaga' | 'txAttemptsPerSaga' | 'profile'>;
  ids: Set<string>;
}> {
  const deadBefore = await deadLetterCount(db);
  const orders = Array.from({ length: args.hotStock * 2 }, (_, i) => order(`bench-h-${i}`, HOT_SKU));
  const cpu0 = cpuSnapshot();
  const r = await load('hot SKU', stack.apiUrl, orders, args.hotConcurrency);
  const cpu1 = cpuSnapshot();
  // Let anything still in flight (a compensation, a dead letter) land before checking.
  await new Promise((res) => setTimeout(res, 2000));
  const stockRes = await fetch(`${stack.apiUrl}/inventory/${HOT_SKU}`);
  const finalStock = Number(((await stockRes.json()) as { available?: unknown }).available);
  const approved = r.orders.filter((o) => o.status === 'APPROVED').length;
  const rejected = r.orders.filter((o) => o.status === 'REJECTED');
  const failed = r.orders.filter((o) => o.sagaStatus === 'FAILED').length;
  const deadLetters = (await deadLetterCount(db)) - deadBefore;
  const latencies = r.orders.map((o) => o.latencyMs);
  // The naive baseline runs for as long as the hot phase took, and at least NAIVE_MIN_SECONDS: on the emulator its
  // rate is not steady (commits flow until the transactions deadlock on the lock, then nothing commits until the
  // lock timeouts, ~15 s later), so a short window would only see the first burst.
  const naiveSeconds =
    args.naiveSeconds ?? Math.max(NAIVE_MIN_SECONDS, Math.ceil((r.finishedAt - r.startedAt) / 1000));
  const naiveBar = new Progress('naive 1-doc tx', naiveSeconds * 1000, 'ms', false);
  const naive = await naiveHotDocument(db, args.hotConcurrency, naiveSeconds, (ms) =>
    naiveBar.update(Math.min(ms, naiveSeconds * 1000)),
  );
  naiveBar.finish(
    `${naive.txPerSec.toFixed(2)} tx/s (${naive.inWindow} committed in the window, ${naive.failed} failed after retries)`,
  );
  const result = {
    stock: args.hotStock,
    orders: orders.length,
    concurrency: args.hotConcurrency,
    approved,
    rejected: rejected.length,
    otherRejections: rejected.filter((o) => o.rejectionReason !== 'OUT_OF_STOCK').length,
    failed,
    errors: r.errors.length,
    deadLetters,
    finalStock,
    ordersPerSec: round(r.perSec, 2),
    pollsPerOrder: round(mean(r.orders.map((o) => o.polls)), 1),
    cpuSeconds: cpuSeconds(cpu0, cpu1),
    p50Ms: round(percentile(latencies, 50), 0),
    p99Ms: round(percentile(latencies, 99), 0),
    naiveSeconds,
    naiveTxPerSec: round(naive.txPerSec, 2),
    naiveCommitted: naive.inWindow,
    naiveFailed: naive.failed,
    ratioToNaive: round(r.perSec / Math.max(naive.txPerSec, 1e-9), 1),
    pass:
      approved === args.hotStock &&
      finalStock === 0 &&
      failed === 0 &&
      deadLetters === 0 &&
      r.errors.length === 0 &&
      r.orders.length === orders.length,
  };
  note(
    `hot SKU: sold ${approved} of stock ${args.hotStock}, final stock ${finalStock} → ${result.pass ? 'PASS' : 'FAIL'}`,
  );
  return { result, ids: new Set(r.orders.map((o) => o.orderId)) };
}

interface Phases {
  engine: { figures: RunFigures; latencies: number[]; costs: PerSaga };
  floor: { figures: RunFigures; latencies: number[] } | null;
  hotSku: HotSkuResult | null;
  /** The open-loop phases (null when all are skipped). */
  burst: BurstResults | null;
  /** $ per 1,000 sagas of the closed-loop engine run. */
  cost: CostPer1000;
  cpuProfile: Record<string, ProfileSummary> | null;
}

/**
 * Documents a TTL policy will delete (billed as deletes), per saga of the whole run: those of every TTL collection
 * (shared/runtime/store/collections.ts) but the Idempotency-Key records, which only orders placed with a key have.
 */
async function ttlDocumentsPerSaga(db: Firestore): Promise<number> {
  const count = async (c: string): Promise<number> => (await db.collection(c).count().get()).data().count;
  const sagas = await count(COLLECTIONS.sagas);
  let docs = 0;
  for (const { collection } of TTL_FIELDS) {
    if (collection !== COLLECTIONS.idempotencyKeys) docs += await count(collection);
  }
  return round(docs / Math.max(1, sagas), 2);
}

const anyOpenLoop = (a: BenchArgs): boolean =>
  !(a.skipBurst && a.skipHotCustomer && a.skipHotSkuBurst && a.skipSustained);

/**
 * The closed-loop engine run priced (bench/cost.ts). Invocations are its deliveries and POSTs (the status polls are
 * the client's, left out); the api's CPU includes answering them (~4 GETs per order).
 */
function closedLoopCost(side: Side, figures: RunFigures, logs: PhaseLogs): CostPer1000 {
  const { lines } = logs;
  const ids = idsOf(side);
  const n = Math.max(1, ids.size);
  const costs = perSaga(lines, ids);
  const bg = side.chunks
    .map((c) => background(lines, c.startedAt, c.finishedAt))
    .reduce(
      (a, b) => ({
        reads: a.reads + b.reads,
        writes: a.writes + b.writes,
        handlerMs: a.handlerMs + b.handlerMs,
      }),
      { reads: 0, writes: 0, handlerMs: 0 },
    );
  return costPer1000({
    reads: costs.readsPerSaga + bg.reads / n,
    writes: costs.writesPerSaga + bg.writes / n,
    ttlDeletes: logs.ttlDocsPerSaga, // no Idempotency-Key records here
    messages: figures.messagesPerSaga,
    messageBytes: figures.messageBytes,
    invocations: costs.deliveriesPerSaga,
    cpuSeconds: functionCpuSeconds(side.cpu) / n,
    handlerSeconds: (costs.handlerMsPerSaga + bg.handlerMs / n) / 1000,
  });
}

async function phases(emulators: EmulatorsHandle, args: BenchArgs): Promise<Phases> {
  const profDir = args.cpuProf === null ? null : path.resolve(args.cpuProf);
  if (profDir !== null) fs.mkdirSync(profDir, { recursive: true });
  const floorStack = args.floor ? await startFloor(emulators, args) : null;
  let engineStack: Stack | null = null;
  const taps: Tap[] = [];
  const clients: PubSub[] = [];
  try {
    engineStack = await startEngine(emulators, args, profDir);
    const sides: Side[] = [
      ...(floorStack ? [{ name: 'floor' as const, stack: floorStack, chunks: [], cpu: {} }] : []),
      { name: 'engine', stack: engineStack, chunks: [], cpu: {} },
    ];
    for (const side of sides) {
      if (args.warmup > 0) {
        await load(
          `${side.name} warm-up`,
          side.stack.apiUrl,
          mainOrders('bench-w', args.warmup),
          args.concurrency,
        );
      }
    }
    for (const side of sides) {
      const client = pubsubClient(side.stack.config.projectId, side.stack.pubsubHost);
      clients.push(client);
      taps.push(await Tap.start(client));
    }
    await interleaved(sides, mainOrders('bench-c', args.orders), args);
    await Promise.all(taps.map((t) => t.settle()));
    await floorStack?.stop();
    await Promise.all(taps.map((t) => t.stop())); // the counts stay

    const engineSide = sides[sides.length - 1]!;
    const engineTap = taps[taps.length - 1]!;
    let hot: Awaited<ReturnType<typeof hotSkuPhase>> | null = null;
    let open: Awaited<ReturnType<typeof burstPhases>> | null = null;
    let ttlDocsPerSaga = 0;
    const db = firestoreClient(engineStack.config.projectId, engineStack.firestoreHost);
    try {
      if (args.hotStock > 0) hot = await hotSkuPhase(engineStack, db, args);
      if (anyOpenLoop(args)) {
        const ids = idsOf(engineSide);
        const messages = engineTap.count(ids);
        open = await burstPhases({
          apiUrl: engineStack.apiUrl,
          db,
          args,
          closedLoopSagasPerSec: sagasPerSecOf(engineSide),
          messagesPerSaga: messages / Math.max(1, ids.size),
          messageBytes: engineTap.bytes(ids) / Math.max(1, messages),
        });
      }
      ttlDocsPerSaga = await ttlDocumentsPerSaga(db);
    } finally {
      await db.terminate();
    }
    await engineStack.stop(); // the function logs are complete once the processes are gone
    const measured = sides.map((side, i) => figuresOf(side, taps[i]!));
    const lines = readCostLines(engineStack.logFile);
    const logs: PhaseLogs = { lines, ttlDocsPerSaga };
    open?.fill(logs);
    const engineRun = measured[measured.length - 1]!;
    const floorRun = floorStack ? measured[0]! : null;
    return {
      engine: {
        figures: engineRun.figures,
        latencies: engineRun.latencies,
        costs: perSaga(lines, engineRun.ids),
      },
      floor: floorRun ? { figures: floorRun.figures, latencies: floorRun.latencies } : null,
      hotSku: hot
        ? {
            ...hot.result,
            transactionsPerSaga: perSaga(lines, hot.ids).transactionsPerSaga,
            txAttemptsPerSaga: perSaga(lines, hot.ids).txAttemptsPerSaga,
            profile: profile(lines, hot.ids),
          }
        : null,
      burst: open?.results ?? null,
      cost: closedLoopCost(engineSide, engineRun.figures, logs),
      cpuProfile: profDir === null ? null : summarizeDir(profDir),
    };
  } finally {
    await Promise.all(taps.map((t) => t.stop()));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await floorStack?.stop();
    await engineStack?.stop();
  }
}

function writeResults(result: BenchResult, svg: string): void {
  const dir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(repoRoot(), result.files.json), `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(path.join(repoRoot(), result.files.svg), svg);
  fs.copyFileSync(path.join(repoRoot(), result.files.json), path.join(dir, 'latest.json'));
  fs.copyFileSync(path.join(repoRoot(), result.files.svg), path.join(dir, 'latest.svg'));
}

async function main(): Promise<void> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ArgsError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const date = new Date();
  const loadavgBefore = os.loadavg();
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  note(`starting the emulators (load average ${loadavgBefore.map((l) => l.toFixed(2)).join(' ')})…`);
  const emulators = await startEmulators({ projectId: 'bench-saga', reuseIfRunning: false });
  process.once('exit', () => emulators.killNow());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      emulators.killNow();
      process.exit(130);
    });
  }
  let run: Phases;
  let trips: TripPhaseResult | null = null;
  let tracing: TracingPhaseResult | null = null;
  try {
    run = await phases(emulators, args);
    if (args.trips > 0) {
      trips = await tripPhase(emulators, {
        trips: args.trips,
        concurrency: args.tripConcurrency,
        rounds: args.rounds,
        warmup: Math.min(args.warmup, 16),
      });
    }
    if (args.tracingOrders > 0) {
      tracing = await tracingPhase(emulators, {
        orders: args.tracingOrders,
        concurrency: args.tracingConcurrency,
        rounds: args.rounds,
        warmup: Math.min(args.warmup, 16),
      });
    }
  } finally {
    await emulators.stop();
  }
  const { engine, floor } = run;

  const stamp = date.toISOString().replace(/[:.]/g, '-');
  const e = engine.figures;
  const result: BenchResult = {
    date: date.toISOString(),
    runSeconds: Math.round((Date.now() - date.getTime()) / 1000),
    machine: {
      cpus: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      loadavgBefore: loadavgBefore.map((l) => round(l, 2)),
      loadavgAfter: os.loadavg().map((l) => round(l, 2)),
      node: process.version,
    },
    orders: args.orders,
    concurrency: args.concurrency,
    sagasPerSec: e.sagasPerSec,
    p50Ms: e.p50Ms,
    p95Ms: e.p95Ms,
    p99Ms: e.p99Ms,
    messagesPerSaga: e.messagesPerSaga,
    readsPerSaga: e.readsPerSaga,
    writesPerSaga: e.writesPerSaga,
    floorSagasPerSec: floor ? floor.figures.sagasPerSec : null,
    ratioToFloor: floor ? round(e.sagasPerSec / floor.figures.sagasPerSec, 2) : null,
    hotSku: run.hotSku,
    writesByFunction: engine.costs.writesByFunction,
    readsByFunction: engine.costs.readsByFunction,
    transactionsPerSaga: engine.costs.transactionsPerSaga,
    txAttemptsPerSaga: engine.costs.txAttemptsPerSaga,
    engine: e,
    floor: floor?.figures ?? null,
    burst: run.burst,
    cost: run.cost,
    cpuProfile: run.cpuProfile,
    trips,
    tracing,
    files: { json: `bench/results/${stamp}.json`, svg: `bench/results/${stamp}.svg` },
  };
  const svg = histogramSvg(
    engine.latencies,
    floor?.latencies ?? null,
    `Order saga latency: ${args.orders} orders, concurrency ${args.concurrency}`,
    `engine ${e.sagasPerSec} sagas/s, p50 ${e.p50Ms} / p95 ${e.p95Ms} / p99 ${e.p99Ms} ms` +
      (floor ? `; floor ${floor.figures.sagasPerSec} sagas/s (ratio ${result.ratioToFloor})` : '') +
      `; ${result.machine.cpus} cores, ${date.toISOString().slice(0, 10)}`,
  );
  writeResults(result, svg);
  process.stdout.write(`${table(result)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  const hotFailed = result.hotSku !== null && !result.hotSku.pass;
  const b = result.burst;
  const burstFailed =
    b !== null && [b.hotCustomer, b.hotSku].some((p) => p !== null && p.check !== null && !p.check.pass);
  const tripsFailed = [trips?.v1, trips?.v2, tracing?.traced, tracing?.untraced].some(
    (side) => side !== undefined && side.errors > 0,
  );
  process.exit(hotFailed || burstFailed || tripsFailed || e.errors > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
