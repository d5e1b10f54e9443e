/** Command-line flags of `npm run bench`. */

export interface BenchArgs {
  orders: number;
  concurrency: number;
  json: boolean;
  /** Stock of the hot SKU; the hot phase places twice as many orders. 0 skips the phase. */
  hotStock: number;
  hotConcurrency: number;
  /** Seconds of the naive one-document transaction baseline; null: as long as the hot phase took, at least 30. */
  naiveSeconds: number | null;
  /** Orders placed (and not measured) before each measured run. */
  warmup: number;
  /** The measured orders run in this many chunks per side, floor and engine alternating. */
  rounds: number;
  /** Skip the floor run (ratioToFloor is then null). */
  floor: boolean;
  /** Write V8 CPU profiles of the engine's function processes here (and summarise them). */
  cpuProf: string | null;
  /** Transactions of the floor's payment hop: 3 like the engine's payment (default), 1 for "one per hop". */
  floorPaymentTx: number;
  /** Open-loop phases (bench/burst.ts). Orders of the burst, posted by `burstClients` clients. */
  burst: number;
  burstClients: number;
  /** Orders of the hot-customer burst. */
  hotCustomerBurst: number;
  /** Stock of the hot-SKU burst's SKU; 3× as many orders. */
  hotSkuBurstStock: number;
  /** Length of the sustained phase's arrivals, and their rate (null: twice the closed-loop sagas/s). */
  sustainedSeconds: number;
  sustainedRate: number | null;
  /** An order still refused (429) this long after its first attempt is given up. */
  giveUpSeconds: number;
  /** How long a phase waits for its sagas once posting is done. */
  drainTimeoutSeconds: number;
  /** Trip phase (bench/trips.ts): trips per version (0 skips), their concurrency. */
  trips: number;
  tripConcurrency: number;
  /** Tracing phase (bench/tracing.ts): orders per side, tracing as npm start runs it vs SAGA_TRACING=off (0 skips). */
  tracingOrders: number;
  tracingConcurrency: number;
  skipBurst: boolean;
  skipHotCustomer: boolean;
  skipHotSkuBurst: boolean;
  skipSustained: boolean;
}

export const USAGE = `usage: npm run bench -- [--orders N] [--concurrency C] [--json]
       [--hot-stock S] [--hot-concurrency C] [--naive-seconds S] [--warmup N] [--rounds R] [--no-floor]
       [--floor-payment-tx N] [--cpu-prof DIR]
       [--burst N] [--burst-clients C] [--hot-customer N] [--hot-sku-burst-stock S]
       [--sustained-seconds S] [--sustained-rate R] [--give-up-seconds S] [--drain-timeout-seconds S]
       [--skip-burst] [--skip-hot-customer] [--skip-hot-sku-burst] [--skip-sustained] [--skip-open-loop]
       [--trips N] [--trip-concurrency C] [--tracing-orders N] [--tracing-concurrency C]

  --orders N           orders in the measured run (default 300)
  --concurrency C      orders in flight at once (default 16)
  --json               print the result as one JSON object on the last line of stdout
  --hot-stock S        stock of the hot SKU; 2×S orders for it at --hot-concurrency (default 100; 0 skips)
  --hot-concurrency C  (default 32)
  --naive-seconds S    window of the naive one-document transaction baseline
                       (default: the hot phase's duration, at least 30 s)
  --warmup N           unmeasured orders on each stack before the measured run (default 32)
  --rounds R           the measured orders run in R chunks per stack, floor and engine alternating (default 3)
  --no-floor           skip the floor run
  --cpu-prof DIR       write CPU profiles of the engine's function processes to DIR and summarise them
  --floor-payment-tx N transactions of the floor's payment hop (default 3, as the engine's payment; 1 = one per hop)

Open-loop phases (after the closed-loop run, on the engine; a 429 is retried after Retry-After, same key):
  --burst N            orders of the burst: 50 customers, 100 SKUs, posted as fast as the api accepts (default 1000; 0 skips)
  --burst-clients C    posting clients of the three bursts (default 32)
  --hot-customer N     orders of the hot-customer burst, all for one customer (default 300; 0 skips)
  --hot-sku-burst-stock S  stock of the hot-SKU burst's SKU; 3×S orders for it (default 100; 0 skips)
  --sustained-seconds S    arrivals of the sustained phase (default 120; 0 skips)
  --sustained-rate R   its arrival rate, orders/s (default: twice the closed-loop sagas/s of the run)
  --give-up-seconds S  an order still refused S s after its first attempt is given up (default 300)
  --drain-timeout-seconds S  wait at most S s for a phase's sagas once posting is done (default 300)
  --skip-burst, --skip-hot-customer, --skip-hot-sku-burst, --skip-sustained, --skip-open-loop (all four)

Trip phase (last, on two fresh stacks: one starting trips on version 1, one on version 2, interleaved in --rounds):
  --trips N            trips per version (default 120; 0 skips)
  --trip-concurrency C trips in flight at once (default 2: the critical path, not the machine's CPU, sets the latency)

Tracing phase (last, on two fresh stacks: tracing as npm start runs it, and SAGA_TRACING=off, interleaved):
  --tracing-orders N   orders per side (default 120; 0 skips)
  --tracing-concurrency C  orders in flight at once (default 8)`;

export class ArgsError extends Error {}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    orders: 300,
    concurrency: 16,
    json: false,
    hotStock: 100,
    hotConcurrency: 32,
    naiveSeconds: null,
    warmup: 32,
    rounds: 3,
    floor: true,
    floorPaymentTx: 3,
    cpuProf: null,
    burst: 1000,
    burstClients: 32,
    hotCustomerBurst: 300,
    hotSkuBurstStock: 100,
    sustainedSeconds: 120,
    sustainedRate: null,
    giveUpSeconds: 300,
    drainTimeoutSeconds: 300,
    trips: 120,
    tripConcurrency: 2,
    tracingOrders: 120,
    tracingConcurrency: 8,
    skipBurst: false,
    skipHotCustomer: false,
    skipHotSkuBurst: false,
    skipSustained: false,
  };
  const skips: Record<string, (keyof BenchArgs)[]> = {
    '--skip-burst': ['skipBurst'],
    '--skip-hot-customer': ['skipHotCustomer'],
    '--skip-hot-sku-burst': ['skipHotSkuBurst'],
    '--skip-sustained': ['skipSustained'],
    '--skip-open-loop': ['skipBurst', 'skipHotCustomer', 'skipHotSkuBurst', 'skipSustained'],
  };
  const ints: Record<string, { key: keyof BenchArgs; min: number; max: number }> = {
    '--orders': { key: 'orders', min: 1, max: 100_000 },
    '--concurrency': { key: 'concurrency', min: 1, max: 1000 },
    '--hot-stock': { key: 'hotStock', min: 0, max: 10_000 },
    '--hot-concurrency': { key: 'hotConcurrency', min: 1, max: 1000 },
    '--naive-seconds': { key: 'naiveSeconds', min: 1, max: 600 },
    '--warmup': { key: 'warmup', min: 0, max: 10_000 },
    '--rounds': { key: 'rounds', min: 1, max: 100 },
    '--floor-payment-tx': { key: 'floorPaymentTx', min: 1, max: 10 },
    '--burst': { key: 'burst', min: 0, max: 100_000 },
    '--burst-clients': { key: 'burstClients', min: 1, max: 1000 },
    '--hot-customer': { key: 'hotCustomerBurst', min: 0, max: 100_000 },
    '--hot-sku-burst-stock': { key: 'hotSkuBurstStock', min: 0, max: 10_000 },
    '--sustained-seconds': { key: 'sustainedSeconds', min: 0, max: 3600 },
    '--give-up-seconds': { key: 'giveUpSeconds', min: 1, max: 3600 },
    '--drain-timeout-seconds': { key: 'drainTimeoutSeconds', min: 1, max: 3600 },
    '--trips': { key: 'trips', min: 0, max: 100_000 },
    '--trip-concurrency': { key: 'tripConcurrency', min: 1, max: 1000 },
    '--tracing-orders': { key: 'tracingOrders', min: 0, max: 100_000 },
    '--tracing-concurrency': { key: 'tracingConcurrency', min: 1, max: 1000 },
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    if (flag === '--json') args.json = true;
    else if (flag === '--no-floor') args.floor = false;
    else if (flag in skips) for (const key of skips[flag]!) Object.assign(args, { [key]: true });
    else if (flag === '--sustained-rate') {
      const raw = inline ?? argv[++i];
      const r = Number(raw);
      if (raw === undefined || !Number.isFinite(r) || r <= 0 || r > 10_000) {
        throw new ArgsError(`--sustained-rate needs a number of orders/s above 0 (got ${raw ?? 'nothing'})`);
      }
      args.sustainedRate = r;
    } else if (flag === '--cpu-prof') {
      const dir = inline ?? argv[++i];
      if (!dir) throw new ArgsError('--cpu-prof needs a directory');
      args.cpuProf = dir;
    } else if (flag === '--help' || flag === '-h') throw new ArgsError(USAGE);
    else if (flag in ints) {
      const spec = ints[flag]!;
      const raw = inline ?? argv[++i];
      const n = Number(raw);
      if (raw === undefined || !Number.isInteger(n) || n < spec.min || n > spec.max) {
        throw new ArgsError(
          `${flag} needs an integer from ${spec.min} to ${spec.max} (got ${raw ?? 'nothing'})`,
        );
      }
      Object.assign(args, { [spec.key]: n });
    } else throw new ArgsError(`unknown flag ${argv[i]}\n${USAGE}`);
  }
  // A size of 0 skips its phase.
  if (args.burst === 0) args.skipBurst = true;
  if (args.hotCustomerBurst === 0) args.skipHotCustomer = true;
  if (args.hotSkuBurstStock === 0) args.skipHotSkuBurst = true;
  if (args.sustainedSeconds === 0) args.skipSustained = true;
  return args;
}
