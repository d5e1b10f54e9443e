/**
 * `npm run bench`: saga throughput and latency against the floor of the emulators, and the hot-SKU case.
 *
 *   1. starts both emulators on free ports (its own, never a running `npm start`'s);
 *   2. floor: the whole harness with echo functions (bench/floor-functions.ts) — same hops, same transactions
 *      count per hop, no business logic — warm-up, then the measured run;
 *   3. engine: the real stack (startStack, like the end-to-end tests), seeded; warm-up, then the same orders at the
 *      same concurrency, with a tap subscription on every source topic counting messages per saga;
 *   4. naive baseline: plain read-modify-write transactions on one document at the hot concurrency;
 *   5. hot SKU: 2× its stock in orders for one SKU (distinct customers) — must sell exactly its stock;
 *   6. reads the functions' per-message cost lines (writes, transactions, phase timings) from the stack's log file;
 *   7. prints a table (stdout; with --json the JSON result is the last line), writes bench/results/<ts>.json + .svg
 *      and copies them to latest.json / latest.svg.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { firestoreClient, pubsubClient } from '../emulator/clients';
import { startEmulators, type EmulatorsHandle } from '../emulator/emulators';
import { freePort, freePortRange } from '../emulator/ports';
import { repoRoot } from '../emulator/repo';
import { startStack, type Stack } from '../emulator/stack';
import { COLLECTIONS } from '../shared/store/collections';
import { FUNCTION_KEYS } from '../shared/topology';
import { ArgsError, parseArgs, type BenchArgs } from './args';
import { cpuSeconds, cpuSnapshot } from './cpu';
import { summarizeDir } from './cpuprofile';
import { perSaga, profile, readCostLines } from './logs';
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
import { Tap } from './tap';

const SKUS = 128;
const HOT_SKU = 'bench-hot';
const PRICE = 1000;

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
  const customers = [
    ...Array.from({ length: args.warmup }, (_, i) => `bench-w-${i}`),
    ...Array.from({ length: args.orders }, (_, i) => `bench-c-${i}`),
    ...Array.from({ length: args.hotStock * 2 }, (_, i) => `bench-h-${i}`),
  ].map((customerId) => ({ customerId, creditLimitCents: 100_000_000 }));
  const products = [
    ...Array.from({ length: SKUS }, (_, i) => ({ sku: `bench-sku-${i}`, available: 1_000_000 })),
    ...(args.hotStock > 0 ? [{ sku: HOT_SKU, available: args.hotStock }] : []),
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-bench-'));
  const file = path.join(dir, 'seed.json');
  fs.writeFileSync(file, JSON.stringify({ customers, products }));
  return file;
}

async function stackEnv(
  emulators: EmulatorsHandle,
  project: string,
  extra: NodeJS.ProcessEnv,
): Promise<NodeJS.ProcessEnv> {
  const others = FUNCTION_KEYS.length - 1;
  const base = await freePortRange(others);
  let apiPort = await freePort();
  while (apiPort >= base && apiPort < base + others) apiPort = await freePort();
  return {
    GOOGLE_CLOUD_PROJECT: project,
    PUBSUB_EMULATOR_HOST: emulators.pubsubHost,
    FIRESTORE_EMULATOR_HOST: emulators.firestoreHost,
    SAGA_API_PORT: String(apiPort),
    SAGA_FUNCTIONS_BASE_PORT: String(base),
    // The per-message cost lines are INFO (the default level); the benchmark needs them.
    SAGA_LOG_LEVEL: 'INFO',
    ...extra,
  };
}

function projectId(kind: string): string {
  return `bench-${kind}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`.slice(0, 30);
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

interface MeasuredRun {
  figures: Omit<RunFigures, 'profile' | 'writesPerSaga' | 'transactionsPerSaga'>;
  ids: Set<string>;
  latencies: number[];
}

/** Warm-up, then the measured run with taps and CPU accounting. */
async function measuredRun(
  label: string,
  stack: Stack,
  warmup: OrderRequest[],
  orders: OrderRequest[],
  concurrency: number,
): Promise<MeasuredRun> {
  if (warmup.length > 0) await load(`${label} warm-up`, stack.apiUrl, warmup, concurrency);
  const pubsub = pubsubClient(stack.config.projectId, stack.pubsubHost);
  const tap = await Tap.start(pubsub);
  try {
    const cpu0 = cpuSnapshot();
    const r = await load(label, stack.apiUrl, orders, concurrency);
    const cpu1 = cpuSnapshot();
    await tap.settle();
    const ids = new Set(r.orders.map((o) => o.orderId));
    const latencies = r.orders.map((o) => o.latencyMs);
    return {
      ids,
      latencies,
      figures: {
        sagasPerSec: round(r.perSec, 2),
        ...latencyFigures(latencies),
        meanMs: round(mean(latencies), 0),
        postP50Ms: round(
          percentile(
            r.orders.map((o) => o.acceptedAt - o.startedAt),
            50,
          ),
          0,
        ),
        pollsPerOrder: round(mean(r.orders.map((o) => o.polls)), 1),
        messagesPerSaga: round(tap.count(ids) / Math.max(1, ids.size), 2),
        approved: r.orders.filter((o) => o.status === 'APPROVED').length,
        errors: r.errors.length,
        cpuSeconds: cpuSeconds(cpu0, cpu1),
      },
    };
  } finally {
    await tap.stop();
    await pubsub.close();
  }
}

async function floorPhase(
  emulators: EmulatorsHandle,
  args: BenchArgs,
): Promise<{ figures: RunFigures; latencies: number[] }> {
  note('floor: starting the harness with echo functions…');
  const stack = await startStack({
    env: await stackEnv(emulators, projectId('floor'), {
      SAGA_SEED_FILE: 'none',
      FLOOR_PAYMENT_TRANSACTIONS: String(args.floorPaymentTx),
    }),
    functionsSource: path.join(__dirname, 'floor-functions.js'),
  });
  let run: MeasuredRun;
  try {
    run = await measuredRun(
      'floor',
      stack,
      mainOrders('bench-w', args.warmup),
      mainOrders('bench-c', args.orders),
      args.concurrency,
    );
  } finally {
    await stack.stop();
  }
  const lines = readCostLines(stack.logFile);
  const costs = perSaga(lines, run.ids);
  return {
    latencies: run.latencies,
    figures: {
      ...run.figures,
      writesPerSaga: costs.writesPerSaga,
      transactionsPerSaga: costs.transactionsPerSaga,
      profile: profile(lines, run.ids),
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
): Promise<{ result: Omit<HotSkuResult, 'txAttemptsPerSaga' | 'profile'>; ids: Set<string> }> {
  const naiveBar = new Progress('naive 1-doc tx', args.naiveSeconds * 1000, 'ms', false);
  const naive = await naiveHotDocument(db, args.hotConcurrency, args.naiveSeconds, (ms) =>
    naiveBar.update(Math.min(ms, args.naiveSeconds * 1000)),
  );
  naiveBar.finish(`${naive.txPerSec.toFixed(2)} tx/s (${naive.committed} committed, ${naive.failed} failed)`);
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
    naiveTxPerSec: round(naive.txPerSec, 2),
    naiveCommitted: naive.committed,
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

async function enginePhase(emulators: EmulatorsHandle, args: BenchArgs) {
  note('engine: starting the stack…');
  const profDir = args.cpuProf === null ? null : path.resolve(args.cpuProf);
  if (profDir !== null) fs.mkdirSync(profDir, { recursive: true });
  const stack = await startStack({
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
  const db = firestoreClient(stack.config.projectId, stack.firestoreHost);
  let run: MeasuredRun;
  let hot: Awaited<ReturnType<typeof hotSkuPhase>> | null = null;
  try {
    run = await measuredRun(
      'engine',
      stack,
      mainOrders('bench-w', args.warmup),
      mainOrders('bench-c', args.orders),
      args.concurrency,
    );
    if (args.hotStock > 0) hot = await hotSkuPhase(stack, db, args);
  } finally {
    await db.terminate();
    await stack.stop();
  }
  const cpuProfile = profDir === null ? null : summarizeDir(profDir);
  const lines = readCostLines(stack.logFile);
  const costs = perSaga(lines, run.ids);
  const figures: RunFigures = {
    ...run.figures,
    writesPerSaga: costs.writesPerSaga,
    transactionsPerSaga: costs.transactionsPerSaga,
    profile: profile(lines, run.ids),
  };
  const hotSku: HotSkuResult | null = hot
    ? {
        ...hot.result,
        txAttemptsPerSaga: perSaga(lines, hot.ids).txAttemptsPerSaga,
        profile: profile(lines, hot.ids),
      }
    : null;
  return { figures, costs, latencies: run.latencies, hotSku, cpuProfile };
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
  let floor: Awaited<ReturnType<typeof floorPhase>> | null = null;
  let engine: Awaited<ReturnType<typeof enginePhase>>;
  try {
    if (args.floor) floor = await floorPhase(emulators, args);
    engine = await enginePhase(emulators, args);
  } finally {
    await emulators.stop();
  }

  const stamp = date.toISOString().replace(/[:.]/g, '-');
  const e = engine.figures;
  const result: BenchResult = {
    date: date.toISOString(),
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
    writesPerSaga: e.writesPerSaga,
    floorSagasPerSec: floor ? floor.figures.sagasPerSec : null,
    ratioToFloor: floor ? round(e.sagasPerSec / floor.figures.sagasPerSec, 2) : null,
    hotSku: engine.hotSku,
    writesByFunction: engine.costs.writesByFunction,
    transactionsPerSaga: engine.costs.transactionsPerSaga,
    txAttemptsPerSaga: engine.costs.txAttemptsPerSaga,
    engine: e,
    floor: floor?.figures ?? null,
    cpuProfile: engine.cpuProfile,
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
  process.exit(hotFailed || e.errors > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
