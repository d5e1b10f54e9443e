/**
 * The whole local stack, programmatically (used by `npm start`, the end-to-end tests and the benchmark):
 * emulators (started or reused) → front doors → topology → seed data → one functions-framework process per
 * function (supervised, restarted on exit) → a tick timer standing in for Cloud Scheduler.
 * Stopping parks the push subscriptions when the Pub/Sub emulator was reused (what is queued is delivered after the
 * next start, emulator/provision.ts), stops the ticker, lets the functions finish the requests they hold
 * (front-door.ts), then stops them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkStartVersions, parseConfig, type Config } from '../shared/runtime/config';
import { registry } from '../shared/registry';
import { FUNCTION_KEYS, FUNCTION_SPECS, type FunctionKey } from '../shared/topology';
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
import { frontDoorBodyLimit, startFrontDoor } from './front-door';
import { freePort } from './ports';
import { appendLog, killGroupNow, logDir } from './process-group';
import { parkSubscriptions, provisionTopology, type ProvisionResult } from './provision';
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

export interface StopOptions {
  /**
   * Park the push subscriptions first (emulator/provision.ts) when the Pub/Sub emulator was reused, so that what is
   * in flight waits for the next start. Default true; false leaves them pushing at the closed endpoints through the
   * outage, as before this existed (tests).
   */
  park?: boolean;
}

export interface Stack {
  apiUrl: string;
  /** The operator console (contract §9), with a trailing slash. */
  consoleUrl: string;
  config: Config;
  ports: Record<FunctionKey, number>;
  pubsubHost: string;
  firestoreHost: string;
  emulators: EmulatorsHandle;
  /** Where function output goes (also when verbose). */
  logFile: string;
  /** SAGA_TRACING=local: the directory of the functions' span files (SAGA_TRACE_DIR); null otherwise. */
  traceDir: string | null;
  seeded: SeedSummary | null;
  /** What provisioning found and did (subscriptionsRecreated: repaired ones whose backlog was dropped). */
  provisioned: ProvisionResult;
  timings: Record<'emulatorsMs' | 'provisionMs' | 'seedMs' | 'functionsMs' | 'totalMs', number>;
  pids(): Record<FunctionKey, number | undefined>;
  /** Sends a signal to a function process (chaos tests); the supervisor restarts it. Default SIGKILL. */
  kill(fn: FunctionKey, signal?: NodeJS.Signals): void;
  restarts(): Record<FunctionKey, number>;
  ticks(): number;
  /** Stops the functions, the ticker and the emulators this stack started. Idempotent (the first options win). */
  stop(opts?: StopOptions): Promise<void>;
}

/** How long a stopping stack waits for the requests its functions are handling. */
const DRAIN_MS = 10_000;

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
  checkStartVersions(cfg, registry);
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
  /** Set once the topology is provisioned on a reused Pub/Sub emulator. */
  let park: (() => Promise<void>) | null = null;
  let stopped: Promise<void> | undefined;
  const stop = (stopOpts: StopOptions = {}): Promise<void> =>
    (stopped ??= (async () => {
      if (park !== null && stopOpts.park !== false) {
        await park().catch((err: unknown) =>
          process.stderr.write(
            `parking the subscriptions failed: ${err instanceof Error ? err.message : String(err)}\n`,
          ),
        );
      }
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

    // The front doors listen before the subscriptions point at them: a push is then held until its function
    // answers, never refused (a refused push can be lost, emulator/provision.ts).
    const internalPorts = await freePorts(ports);
    // Functions users call (api, console) are not replayed and get the api's body limit; push endpoints are.
    const calledByUsers = (k: FunctionKey): boolean =>
      FUNCTION_SPECS.find((f) => f.key === k)?.trigger === 'http';
    const doors = await Promise.all(
      FUNCTION_KEYS.map((k) =>
        startFrontDoor({
          name: k,
          publicPort: ports[k]!,
          targetPort: internalPorts[k]!,
          replayInFlight: !calledByUsers(k),
          maxBodyBytes: frontDoorBodyLimit(calledByUsers(k) ? 'api' : 'push'),
        }),
      ),
    );
    cleanups.push(() => Promise.all(doors.map((d) => d.close())).then(() => undefined));
    const endpoints = mapKeys((k) => `http://127.0.0.1:${ports[k]}`);
    const provisioned = await provisionTopology({
      projectId: cfg.projectId,
      endpoints,
      maxDeliveryAttempts: cfg.maxDeliveryAttempts,
      minBackoffS: cfg.retryMinBackoffS,
      maxBackoffS: cfg.retryMaxBackoffS,
      pubsubHost: emulators.pubsubHost,
    });
    if (!emulators.pubsub.started) park = () => parkSubscriptions(cfg.projectId, emulators.pubsubHost);
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
    // Local spans: one JSON-lines file per function process, beside the log file (the console reads them).
    const traceDir =
      cfg.tracing === 'local'
        ? path.resolve(cfg.traceDir ?? path.join(logDir(), `traces-${cfg.projectId}-${cfg.apiPort}`))
        : null;
    if (traceDir !== null) fs.mkdirSync(traceDir, { recursive: true });
    // Local metrics: each function process writes its snapshot here (SAGA_METRICS=local); this run starts empty.
    if (cfg.metrics.mode === 'local') {
      fs.rmSync(cfg.metrics.dir, { recursive: true, force: true });
      fs.mkdirSync(cfg.metrics.dir, { recursive: true });
    }
    const children = startFunctions({
      cfg,
      env: traceDir !== null ? { ...env, SAGA_TRACE_DIR: traceDir } : env,
      emulators,
      ports,
      internalPorts,
      source,
      root,
      logFile,
      verbose: !!opts.verbose,
    });
    cleanups.push(() => Promise.all(FUNCTION_KEYS.map((k) => children[k]!.stop())).then(() => undefined));
    // Before the processes are stopped: let them finish the requests they hold (front-door.ts, drain).
    cleanups.push(() => Promise.all(doors.map((d) => d.drain(DRAIN_MS))).then(() => undefined));
    const killAll = (): void => FUNCTION_KEYS.forEach((k) => killGroupNow(children[k]!.pid()));
    process.on('exit', killAll);
    cleanups.push(() => void process.off('exit', killAll));
    await waitAllAnswering(ports, Date.now() + (opts.readyTimeoutMs ?? 60_000), logFile);
    const t4 = Date.now();

    const pubsub = pubsubClient(cfg.projectId, emulators.pubsubHost);
    const ticker: Ticker = startTicker(pubsub, cfg.sweepIntervalMs, (err) =>
      process.stderr.write(`tick publish failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
    cleanups.push(async () => {
      await ticker.stop();
      await pubsub.close();
    });

    return {
      apiUrl: `http://127.0.0.1:${ports.api}`,
      consoleUrl: `http://127.0.0.1:${ports.console}/`,
      config: cfg,
      ports,
      pubsubHost: emulators.pubsubHost,
      firestoreHost: emulators.firestoreHost,
      emulators,
      logFile,
      traceDir,
      seeded,
      provisioned,
      timings: {
        emulatorsMs: t1 - t0,
        provisionMs: t2 - t1,
        seedMs: t3 - t2,
        functionsMs: t4 - t3,
        totalMs: t4 - t0,
      },
      pids: () => mapKeys((k) => children[k]!.pid()),
      kill: (fn, signal = 'SIGKILL') => {
        const child = children[fn];
        if (!child) throw new Error(`no function ${fn}`);
        child.kill(signal);
      },
      restarts: () => mapKeys((k) => children[k]!.restarts()),
      ticks: () => ticker.count(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
