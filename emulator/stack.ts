/**
 * The whole local stack, programmatically (used by `npm start`, the end-to-end tests and the benchmark):
 * emulators (started or reused) → topology → seed data → one functions-framework process per function
 * (supervised, restarted on exit) → a tick timer standing in for Cloud Scheduler.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, type Config } from '../shared/config';
import { FUNCTION_KEYS, type FunctionKey } from '../shared/topology';
import { firestoreClient, pubsubClient } from './clients';
import { startEmulators, type EmulatorsHandle } from './emulators';
import {
  assertPortsFree,
  functionPorts,
  mapKeys,
  startFunctions,
  StackError,
  waitAllAnswering,
} from './function-processes';
import { startFrontDoor } from './front-door';
import { freePort } from './ports';
import { appendLog, killGroupNow, logDir } from './process-group';
import { provisionTopology } from './provision';
import { repoRoot } from './repo';
import { loadSeedFile, seedData as seed, type SeedSummary } from './seed';
import { startTicker, type Ticker } from './ticker';

export { functionPorts, StackError };

export interface StackOptions {
  /** Merged over process.env before parsing the configuration. */
  env?: NodeJS.ProcessEnv;
  /** Forward function output to stdout with a `[fn]` prefix (otherwise it only goes to the log file). */
  verbose?: boolean;
  /** Forward emulator output to stdout as well. */
  verboseEmulators?: boolean;
  /** Reuse emulators already answering at the configured hosts. Default true. */
  reuseEmulators?: boolean;
  /** Module the functions are loaded from. Default <repo>/dist/functions/index.js. */
  functionsSource?: string;
  /** How long to wait for every function to answer HTTP. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface Stack {
  apiUrl: string;
  config: Config;
  ports: Record<FunctionKey, number>;
  pubsubHost: string;
  firestoreHost: string;
  emulators: EmulatorsHandle;
  /** Where function output goes (also when verbose). */
  logFile: string;
  seeded: SeedSummary | null;
  timings: Record<'emulatorsMs' | 'provisionMs' | 'seedMs' | 'functionsMs' | 'totalMs', number>;
  pids(): Record<FunctionKey, number | undefined>;
  /** Sends a signal to a function process (chaos tests); the supervisor restarts it. Default SIGKILL. */
  kill(fn: FunctionKey, signal?: NodeJS.Signals): void;
  restarts(): Record<FunctionKey, number>;
  ticks(): number;
  /** Stops the functions, the ticker and the emulators this stack started. Idempotent. */
  stop(): Promise<void>;
}

async function freePorts(avoid: Record<FunctionKey, number>): Promise<Record<FunctionKey, number>> {
  const taken = new Set(Object.values(avoid));
  const out: Partial<Record<FunctionKey, number>> = {};
  for (const k of FUNCTION_KEYS) {
    let p = await freePort();
    while (taken.has(p)) p = await freePort();
    taken.add(p);
    out[k] = p;
  }
  return out as Record<FunctionKey, number>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const t0 = Date.now();
  const env = { ...process.env, ...opts.env };
  const cfg = parseConfig(env);
  // Emulators only: skip the client libraries' GCE metadata-server probe (slow, and warns on every client).
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const root = repoRoot();
  const source = opts.functionsSource ?? path.join(root, 'dist', 'functions', 'index.js');
  if (!fs.existsSync(source)) throw new StackError(`functions module ${source} not found: run npm run build`);
  const ports = functionPorts(cfg);
  await assertPortsFree(ports);
  // A relative SAGA_SEED_FILE is relative to the repository root (the default is emulator/seed.json).
  const seedFile = cfg.seedFile === 'none' ? null : path.resolve(root, cfg.seedFile);
  const seedData = seedFile === null ? null : loadSeedFile(seedFile); // fails before anything is started

  const cleanups: (() => Promise<void> | void)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const c of cleanups.reverse()) await c();
    })());

  try {
    const emulators = await startEmulators({
      projectId: cfg.projectId,
      pubsubHost: cfg.pubsubEmulatorHost ?? undefined,
      firestoreHost: cfg.firestoreEmulatorHost ?? undefined,
      reuseIfRunning: opts.reuseEmulators ?? true,
      verbose: opts.verboseEmulators ?? false,
    });
    cleanups.push(() => emulators.stop());
    const t1 = Date.now();

    const endpoints = mapKeys((k) => `http://127.0.0.1:${ports[k]}`);
    await provisionTopology({
      projectId: cfg.projectId,
      endpoints,
      maxDeliveryAttempts: cfg.maxDeliveryAttempts,
      minBackoffS: cfg.retryMinBackoffS,
      maxBackoffS: cfg.retryMaxBackoffS,
      pubsubHost: emulators.pubsubHost,
    });
    const t2 = Date.now();

    let seeded: SeedSummary | null = null;
    if (seedData !== null) {
      const firestore = firestoreClient(cfg.projectId, emulators.firestoreHost);
      try {
        seeded = await seed(firestore, seedData);
      } finally {
        await firestore.terminate();
      }
    }
    const t3 = Date.now();

    const logFile = path.join(logDir(), `functions-${cfg.projectId}-${cfg.apiPort}.log`);
    appendLog(logFile, `--- stack ${cfg.projectId} starting at ${new Date().toISOString()} ---`);
    const internalPorts = await freePorts(ports);
    const doors = await Promise.all(
      FUNCTION_KEYS.map((k) =>
        startFrontDoor({
          name: k,
          publicPort: ports[k],
          targetPort: internalPorts[k],
          replayInFlight: k !== 'api',
        }),
      ),
    );
    cleanups.push(() => Promise.all(doors.map((d) => d.close())).then(() => undefined));
    const children = startFunctions({
      cfg,
      env,
      emulators,
      ports,
      internalPorts,
      source,
      root,
      logFile,
      verbose: !!opts.verbose,
    });
    cleanups.push(() => Promise.all(FUNCTION_KEYS.map((k) => children[k].stop())).then(() => undefined));
    const killAll = (): void => FUNCTION_KEYS.forEach((k) => killGroupNow(children[k].pid()));
    process.on('exit', killAll);
    cleanups.push(() => void process.off('exit', killAll));
    await waitAllAnswering(ports, Date.now() + (opts.readyTimeoutMs ?? 60_000), logFile);
    const t4 = Date.now();

    const pubsub = pubsubClient(cfg.projectId, emulators.pubsubHost);
    const ticker: Ticker = startTicker(pubsub, cfg.sweepIntervalMs, (err) =>
      process.stderr.write(`tick publish failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
    cleanups.push(async () => {
      ticker.stop();
      await pubsub.close();
    });

    return {
      apiUrl: `http://127.0.0.1:${ports.api}`,
      config: cfg,
      ports,
      pubsubHost: emulators.pubsubHost,
      firestoreHost: emulators.firestoreHost,
      emulators,
      logFile,
      seeded,
      timings: {
        emulatorsMs: t1 - t0,
        provisionMs: t2 - t1,
        seedMs: t3 - t2,
        functionsMs: t4 - t3,
        totalMs: t4 - t0,
      },
      pids: () => mapKeys((k) => children[k].pid()),
      kill: (fn, signal = 'SIGKILL') => children[fn].kill(signal),
      restarts: () => mapKeys((k) => children[k].restarts()),
      ticks: () => ticker.count(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
