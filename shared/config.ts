/**
 * Configuration, parsed and validated once (zod). Every default lives here.
 *
 * Local defaults (emulator hosts, ports) apply only outside Cloud Run / Cloud Functions (no K_SERVICE).
 * An emulator host set to the empty string means "talk to real Google Cloud" (e.g. the CLI with ADC).
 */
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const hostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must be HOST:PORT');
const optionalHostPort = z.union([z.literal(''), hostPort]);

function numberVar(min: number, max: number, int = true) {
  const base = z.coerce.number().min(min).max(max);
  return int ? base.int() : base;
}

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
    SAGA_SWEEP_INTERVAL_MS: numberVar(50, 3_600_000).default(5_000),
    SAGA_MAX_DELIVERY_ATTEMPTS: numberVar(5, 100).default(5),
    SAGA_RETRY_MIN_BACKOFF_S: numberVar(0, 600, false).default(1),
    SAGA_RETRY_MAX_BACKOFF_S: numberVar(0, 600, false).default(10),
    SAGA_SEED_FILE: z.string().min(1).default('emulator/seed.json'),
    /** An outbox record not marked sent after this long is republished by the sweeper. */
    SAGA_OUTBOX_GRACE_MS: numberVar(0, 3_600_000).default(2_000),
    /** How many times a timed-out compensation is re-issued before the saga is FAILED. */
    SAGA_COMPENSATION_MAX_ATTEMPTS: numberVar(1, 100).default(3),
    /** Sweeper batch size (documents per query). */
    SAGA_SWEEP_BATCH: numberVar(1, 500).default(100),
    /** Log level threshold. */
    SAGA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR']).default('INFO'),
    /** Test-only fault injection, e.g. "crash-after-commit:credit". Never set in production. */
    SAGA_FAULTS: z.string().default(''),
    K_SERVICE: z.string().optional(),
  })
  .superRefine((v, ctx) => {
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
  sweepIntervalMs: number;
  maxDeliveryAttempts: number;
  retryMinBackoffS: number;
  retryMaxBackoffS: number;
  seedFile: string;
  outboxGraceMs: number;
  compensationMaxAttempts: number;
  sweepBatch: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  faults: readonly string[];
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
  return {
    projectId: v.GOOGLE_CLOUD_PROJECT,
    pubsubEmulatorHost: emulatorHost(v.PUBSUB_EMULATOR_HOST, '127.0.0.1:8085'),
    firestoreEmulatorHost: emulatorHost(v.FIRESTORE_EMULATOR_HOST, '127.0.0.1:8086'),
    apiPort: v.SAGA_API_PORT,
    functionsBasePort: v.SAGA_FUNCTIONS_BASE_PORT,
    stepTimeoutMs: v.SAGA_STEP_TIMEOUT_MS,
    sweepIntervalMs: v.SAGA_SWEEP_INTERVAL_MS,
    maxDeliveryAttempts: v.SAGA_MAX_DELIVERY_ATTEMPTS,
    retryMinBackoffS: v.SAGA_RETRY_MIN_BACKOFF_S,
    retryMaxBackoffS: v.SAGA_RETRY_MAX_BACKOFF_S,
    seedFile: v.SAGA_SEED_FILE,
    outboxGraceMs: v.SAGA_OUTBOX_GRACE_MS,
    compensationMaxAttempts: v.SAGA_COMPENSATION_MAX_ATTEMPTS,
    sweepBatch: v.SAGA_SWEEP_BATCH,
    logLevel: v.SAGA_LOG_LEVEL,
    faults: v.SAGA_FAULTS.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  };
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
