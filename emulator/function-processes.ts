/**
 * The local function processes: one functions-framework process per function, on its own port, supervised.
 */
import type { Config } from '../shared/runtime/config';
import { FUNCTION_KEYS, type FunctionKey } from '../shared/topology';
import type { EmulatorsHandle } from './emulators';
import { httpGet, isPortFree } from './ports';
import { logTail } from './process-group';
import { functionsFrameworkMain } from './repo';
import { supervise, type Supervised } from './supervisor';

export class StackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackError';
  }
}

export function mapKeys<T>(f: (k: FunctionKey) => T): Record<FunctionKey, T> {
  return Object.fromEntries(FUNCTION_KEYS.map((k) => [k, f(k)]));
}

/** api on SAGA_API_PORT; the others on SAGA_FUNCTIONS_BASE_PORT + their index in FUNCTION_KEYS without api. */
export function functionPorts(cfg: Config): Record<FunctionKey, number> {
  const others = FUNCTION_KEYS.filter((k) => k !== 'api');
  const entries = FUNCTION_KEYS.map((k) => [
    k,
    k === 'api' ? cfg.apiPort : cfg.functionsBasePort + others.indexOf(k),
  ]);
  return Object.fromEntries(entries) as Record<FunctionKey, number>;
}

export async function assertPortsFree(ports: Record<FunctionKey, number>): Promise<void> {
  const others = FUNCTION_KEYS.filter((k) => k !== 'api').map((k) => ports[k]);
  if (others.includes(ports.api)) {
    throw new StackError(
      `SAGA_API_PORT=${ports.api} collides with SAGA_FUNCTIONS_BASE_PORT (ports ${others[0]}-${others[others.length - 1]})`,
    );
  }
  for (const k of FUNCTION_KEYS) {
    if (await isPortFree(ports[k]!)) continue;
    const variable = k === 'api' ? 'SAGA_API_PORT' : 'SAGA_FUNCTIONS_BASE_PORT';
    throw new StackError(`port in use: port ${ports[k]} of function ${k} (from ${variable}) is taken`);
  }
}

async function waitAnswering(port: number, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if ((await httpGet(`http://127.0.0.1:${port}/`)) !== null) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The configuration's environment, with the emulator hosts actually in use. */
function childEnv(base: NodeJS.ProcessEnv, cfg: Config, emus: EmulatorsHandle): NodeJS.ProcessEnv {
  return {
    ...base,
    GOOGLE_CLOUD_PROJECT: cfg.projectId,
    PUBSUB_EMULATOR_HOST: emus.pubsubHost,
    FIRESTORE_EMULATOR_HOST: emus.firestoreHost,
    SAGA_API_PORT: String(cfg.apiPort),
    SAGA_FUNCTIONS_BASE_PORT: String(cfg.functionsBasePort),
    SAGA_METRICS_DIR: cfg.metrics.dir,
    METADATA_SERVER_DETECTION: base.METADATA_SERVER_DETECTION ?? 'none',
  };
}

export interface FunctionsLaunch {
  cfg: Config;
  env: NodeJS.ProcessEnv;
  emulators: EmulatorsHandle;
  ports: Record<FunctionKey, number>;
  source: string;
  root: string;
  logFile: string;
  verbose: boolean;
}

/** Each process listens on an internal port behind its front door (see front-door.ts). */
export function startFunctions(
  l: FunctionsLaunch & { internalPorts: Record<FunctionKey, number> },
): Record<FunctionKey, Supervised> {
  const main = functionsFrameworkMain(l.root);
  const env = childEnv(l.env, l.cfg, l.emulators);
  return mapKeys((k) =>
    supervise({
      name: k,
      command: process.execPath,
      args: [
        main,
        `--target=${k}`,
        `--source=${l.source}`,
        `--port=${l.internalPorts[k]}`,
        '--signature-type=http',
      ],
      // As Cloud Functions sets it: names the process in its log lines and spans.
      env: { ...env, FUNCTION_TARGET: k },
      cwd: l.root,
      logFile: l.logFile,
      forward: l.verbose,
    }),
  );
}

export async function waitAllAnswering(
  ports: Record<FunctionKey, number>,
  deadline: number,
  logFile: string,
): Promise<void> {
  const ready = await Promise.all(FUNCTION_KEYS.map((k) => waitAnswering(ports[k]!, deadline)));
  const missing = FUNCTION_KEYS.filter((_, i) => !ready[i]);
  if (missing.length > 0) {
    throw new StackError(
      `functions not answering HTTP: ${missing.map((k) => `${k} (port ${ports[k]})`).join(', ')}; log ${logFile}:\n${logTail(logFile, 30)}`,
    );
  }
}
