/**
 * Configuration, parsed and validated once (zod). Every default lives here.
 *
 * Local defaults (emulator hosts, ports) apply only outside Cloud Run / Cloud Functions (no K_SERVICE).
 * An emulator host set to the empty string means "talk to real Google Cloud" (e.g. the CLI with ADC).
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Registry } from './registry';

const port = z.coerce.number().int().min(1).max(65535);
const hostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must be HOST:PORT');
const optionalHostPort = z.union([z.literal(''), hostPort]);

function numberVar(min: number, max: number, int = true) {
  const base = z.coerce.number().min(min).max(max);
  return int ? base.int() : base;
}

const START_ENTRY = /^([A-Za-z0-9_.-]{1,64})=([1-9][0-9]{0,5})$/;

/**
 * `type=version,…` → type → version. Only the syntax: the types and versions are checked against the registry where
 * the deployment is composed (checkStartVersions).
 */
const startVersions = z
  .string()
  .default('')
  .transform((raw, ctx): ReadonlyMap<string, number> => {
    const out = new Map<string, number>();
    for (const entry of raw.split(',').map((e) => e.trim())) {
      if (entry === '') continue;
      const m = START_ENTRY.exec(entry.replace(/\s*=\s*/, '='));
      if (!m) {
        ctx.addIssue({
          code: 'custom',
          message: `malformed entry ${JSON.stringify(entry)}: expected <saga type>=<version>, e.g. trip-booking=1`,
        });
        continue;
      }
      const type = m[1]!;
      if (out.has(type)) ctx.addIssue({ code: 'custom', message: `saga type ${type} is named twice` });
      out.set(type, Number(m[2]));
    }
    return out;
  });

const schema = z
  .object({
    GOOGLE_CLOUD_PROJECT: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
        'must be a GCP project id (6-30 lowercase letters, digits, hyphens)',
      )
      .default('demo-saga'),
    PUBSUB_EMULATOR_HOST: optionalHostPort.optional(),
    FIRESTORE_EMULATOR_HOST: optionalHostPort.optional(),
    SAGA_API_PORT: port.default(8080),
    SAGA_FUNCTIONS_BASE_PORT: port.default(8100),
    SAGA_STEP_TIMEOUT_MS: numberVar(100, 86_400_000).default(30_000),
    /**
     * The longest a command may wait, queued behind other work of a participant that is answering, before its step
     * is timed out as lost (Temporal's schedule-to-start timeout). Queue time before it never times a step out.
     */
    SAGA_SCHEDULE_TO_START_MS: numberVar(1_000, 7 * 86_400_000).default(600_000),
    /**
     * Admission control (api → 429): sagas per second this deployment finishes (measure it with `npm run bench`),
     * and the longest an accepted saga should wait behind the others. In-flight bound = their product.
     */
    SAGA_THROUGHPUT_PER_S: numberVar(0.1, 1_000_000, false).default(10),
    SAGA_MAX_QUEUE_S: numberVar(1, 86_400, false).default(30),
    /** How often an api instance re-counts the sagas in flight (between counts it adds what it accepted). */
    SAGA_ADMISSION_REFRESH_MS: numberVar(0, 60_000).default(1_000),
    /**
     * How long one sweeper invocation keeps sweeping, one pass every SAGA_SWEEP_INTERVAL_MS (the cloud's scheduler
     * ticks once a minute). 0 (the local default: the harness ticks every interval) = one pass, draining every page.
     */
    SAGA_SWEEP_BUDGET_MS: numberVar(0, 3_600_000).default(0),
    SAGA_SWEEP_INTERVAL_MS: numberVar(50, 3_600_000).default(5_000),
    SAGA_MAX_DELIVERY_ATTEMPTS: numberVar(5, 100).default(5),
    SAGA_RETRY_MIN_BACKOFF_S: numberVar(0, 600, false).default(1),
    SAGA_RETRY_MAX_BACKOFF_S: numberVar(0, 600, false).default(10),
    SAGA_SEED_FILE: z.string().min(1).default('emulator/seed.json'),
    /** The definition version new sagas of a type start on (`trip-booking=1`); default: the newest of each type. */
    SAGA_START_VERSIONS: startVersions,
    /** An outbox record not marked sent after this long is republished by the sweeper. */
    SAGA_OUTBOX_GRACE_MS: numberVar(0, 3_600_000).default(2_000),
    /** How many times a timed-out compensation is re-issued before the saga is FAILED. */
    SAGA_COMPENSATION_MAX_ATTEMPTS: numberVar(1, 100).default(3),
    /** Sweeper batch size (documents per query). */
    SAGA_SWEEP_BATCH: numberVar(1, 500).default(100),
    /** Log level threshold. */
    SAGA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR']).default('INFO'),
    /**
     * Where spans go (shared/runtime/telemetry/tracing-sdk.ts): off (no SDK at all), local (JSON-lines files under
     * SAGA_TRACE_DIR), cloud (Cloud Trace). Default: local when an emulator host is in use, cloud otherwise.
     */
    SAGA_TRACING: z.enum(['off', 'local', 'cloud']).optional(),
    /** SAGA_TRACING=local: the directory of the span files (the harness sets it for every function process). */
    SAGA_TRACE_DIR: z.string().min(1).optional(),
    /**
     * OpenTelemetry metrics: `off` (no SDK, a no-op meter), `local` (each process writes its snapshot to
     * SAGA_METRICS_DIR, shown by the console and `npm run saga -- metrics`), `cloud` (Cloud Monitoring). Default:
     * `local` when both emulator hosts are set, else `cloud`.
     */
    SAGA_METRICS: z.enum(['off', 'local', 'cloud']).optional(),
    /** How often metrics are exported (default: 5 s local, 60 s cloud). */
    SAGA_METRICS_EXPORT_MS: numberVar(100, 3_600_000).optional(),
    /** Where local metrics snapshots go (default: <tmp>/gcp-saga-metrics/<project>-<api port>). */
    SAGA_METRICS_DIR: z.string().min(1).optional(),
    /** Test-only fault injection, e.g. "crash-after-commit:credit". Never set in production. */
    SAGA_FAULTS: z.string().default(''),
    K_SERVICE: z.string().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.SAGA_SCHEDULE_TO_START_MS < v.SAGA_STEP_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SAGA_SCHEDULE_TO_START_MS'],
        message: 'must be at least SAGA_STEP_TIMEOUT_MS',
      });
    }
    if (v.SAGA_RETRY_MIN_BACKOFF_S > v.SAGA_RETRY_MAX_BACKOFF_S) {
      ctx.addIssue({
        code: 'custom',
        path: ['SAGA_RETRY_MIN_BACKOFF_S'],
        message: 'must not exceed SAGA_RETRY_MAX_BACKOFF_S',
      });
    }
  });

export interface Config {
  projectId: string;
  pubsubEmulatorHost: string | null;
  firestoreEmulatorHost: string | null;
  apiPort: number;
  functionsBasePort: number;
  stepTimeoutMs: number;
  scheduleToStartMs: number;
  /** Admission control: sagas/s the deployment finishes, max queue time, and the in-flight bound they give. */
  throughputPerS: number;
  maxQueueS: number;
  maxInFlight: number;
  admissionRefreshMs: number;
  sweepIntervalMs: number;
  sweepBudgetMs: number;
  maxDeliveryAttempts: number;
  retryMinBackoffS: number;
  retryMaxBackoffS: number;
  seedFile: string;
  /** Saga type → the definition version new sagas start on (types not named: the newest). */
  startVersions: ReadonlyMap<string, number>;
  outboxGraceMs: number;
  compensationMaxAttempts: number;
  sweepBatch: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  /** Where spans go: off (no tracing at all), local (span files in traceDir), cloud (Cloud Trace). */
  tracing: 'off' | 'local' | 'cloud';
  /** The local span files' directory (null: spans are not kept locally; the context is still carried). */
  traceDir: string | null;
  /** OpenTelemetry metrics: where they go (shared/runtime/telemetry/metrics-sdk.ts). */
  metrics: MetricsConfig;
  faults: readonly string[];
}

export interface MetricsConfig {
  mode: 'off' | 'local' | 'cloud';
  exportIntervalMs: number;
  /** Local snapshots: one JSON file per function process (read by the console and the CLI). */
  dir: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses an environment; throws ConfigError naming every invalid variable. Pure: does not touch process.env. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`,
    );
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const v = result.data;
  const local = v.K_SERVICE === undefined;
  const emulatorHost = (value: string | undefined, fallback: string): string | null => {
    if (value === '') return null;
    if (value !== undefined) return value;
    return local ? fallback : null;
  };
  const pubsubEmulatorHost = emulatorHost(v.PUBSUB_EMULATOR_HOST, '127.0.0.1:8085');
  const firestoreEmulatorHost = emulatorHost(v.FIRESTORE_EMULATOR_HOST, '127.0.0.1:8086');
  const onEmulators = pubsubEmulatorHost !== null || firestoreEmulatorHost !== null;
  const metricsMode =
    v.SAGA_METRICS ?? (pubsubEmulatorHost !== null && firestoreEmulatorHost !== null ? 'local' : 'cloud');
  return {
    projectId: v.GOOGLE_CLOUD_PROJECT,
    pubsubEmulatorHost,
    firestoreEmulatorHost,
    apiPort: v.SAGA_API_PORT,
    functionsBasePort: v.SAGA_FUNCTIONS_BASE_PORT,
    stepTimeoutMs: v.SAGA_STEP_TIMEOUT_MS,
    scheduleToStartMs: v.SAGA_SCHEDULE_TO_START_MS,
    throughputPerS: v.SAGA_THROUGHPUT_PER_S,
    maxQueueS: v.SAGA_MAX_QUEUE_S,
    maxInFlight: Math.max(1, Math.ceil(v.SAGA_THROUGHPUT_PER_S * v.SAGA_MAX_QUEUE_S)),
    admissionRefreshMs: v.SAGA_ADMISSION_REFRESH_MS,
    sweepIntervalMs: v.SAGA_SWEEP_INTERVAL_MS,
    sweepBudgetMs: v.SAGA_SWEEP_BUDGET_MS,
    maxDeliveryAttempts: v.SAGA_MAX_DELIVERY_ATTEMPTS,
    retryMinBackoffS: v.SAGA_RETRY_MIN_BACKOFF_S,
    retryMaxBackoffS: v.SAGA_RETRY_MAX_BACKOFF_S,
    seedFile: v.SAGA_SEED_FILE,
    startVersions: v.SAGA_START_VERSIONS,
    outboxGraceMs: v.SAGA_OUTBOX_GRACE_MS,
    compensationMaxAttempts: v.SAGA_COMPENSATION_MAX_ATTEMPTS,
    sweepBatch: v.SAGA_SWEEP_BATCH,
    logLevel: v.SAGA_LOG_LEVEL,
    tracing: v.SAGA_TRACING ?? (onEmulators ? 'local' : 'cloud'),
    traceDir: v.SAGA_TRACE_DIR ?? null,
    metrics: {
      mode: metricsMode,
      exportIntervalMs: v.SAGA_METRICS_EXPORT_MS ?? (metricsMode === 'cloud' ? 60_000 : 5_000),
      dir:
        v.SAGA_METRICS_DIR ??
        path.join(os.tmpdir(), 'gcp-saga-metrics', `${v.GOOGLE_CLOUD_PROJECT}-${v.SAGA_API_PORT}`),
    },
    faults: v.SAGA_FAULTS.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  };
}

/**
 * Throws ConfigError when SAGA_START_VERSIONS names a saga type or version `registry` does not know. Called where a
 * deployment is composed (functions/context.ts, the harness, the CLI): the config parser cannot see the registry.
 */
export function checkStartVersions(cfg: Pick<Config, 'startVersions'>, registry: Registry): void {
  const problems = registry.startVersionProblems(cfg.startVersions);
  if (problems.length > 0) {
    const got = [...cfg.startVersions].map(([t, v]) => `${t}=${v}`).join(',');
    throw new ConfigError(
      `invalid configuration:\n  ${problems.map((p) => `SAGA_START_VERSIONS: ${p} (got ${JSON.stringify(got)})`).join('\n  ')}`,
    );
  }
}

let cached: Config | undefined;

/**
 * The process configuration, parsed once. The client libraries read the emulator hosts from process.env, so the
 * resolved hosts are written back (and removed when talking to real Google Cloud).
 */
export function config(): Config {
  if (cached) return cached;
  const c = parseConfig(process.env);
  if (c.pubsubEmulatorHost === null) delete process.env.PUBSUB_EMULATOR_HOST;
  else process.env.PUBSUB_EMULATOR_HOST = c.pubsubEmulatorHost;
  if (c.firestoreEmulatorHost === null) delete process.env.FIRESTORE_EMULATOR_HOST;
  else process.env.FIRESTORE_EMULATOR_HOST = c.firestoreEmulatorHost;
  process.env.GOOGLE_CLOUD_PROJECT = c.projectId;
  // On the emulators there is no metadata server to find: skip the client libraries' probe (and its warning).
  if (c.firestoreEmulatorHost !== null && c.pubsubEmulatorHost !== null) {
    process.env.METADATA_SERVER_DETECTION ??= 'none';
  }
  cached = c;
  return c;
}

/** For tests that change the environment between cases. */
export function resetConfigForTests(): void {
  cached = undefined;
}

/** Exits the process with a message naming the invalid variable(s). For entry points (harness, CLI, functions). */
export function configOrExit(): Config {
  try {
    return config();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
