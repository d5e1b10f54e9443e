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
}

export const USAGE = `usage: npm run bench -- [--orders N] [--concurrency C] [--json]
       [--hot-stock S] [--hot-concurrency C] [--naive-seconds S] [--warmup N] [--rounds R] [--no-floor]
       [--floor-payment-tx N] [--cpu-prof DIR]

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
  --floor-payment-tx N transactions of the floor's payment hop (default 3, as the engine's payment; 1 = one per hop)`;

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
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    if (flag === '--json') args.json = true;
    else if (flag === '--no-floor') args.floor = false;
    else if (flag === '--cpu-prof') {
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
  return args;
}
