/**
 * Starts (or reuses) the Pub/Sub and Firestore emulators of the Google Cloud CLI.
 *
 * Each emulator runs in its own process group with its output in a log file; stop() kills the groups it started
 * and never touches an emulator it reused.
 */
import * as path from 'node:path';
import { killGroupNow, logDir, logTail, spawnGroup, type GroupProcess } from './process-group';
import { freePort, probeEmulator } from './ports';

export { freePort };

export type EmulatorKind = 'pubsub' | 'firestore';

export interface StartEmulatorsOptions {
  projectId: string;
  /** HOST:PORT; default 127.0.0.1 and a free port. */
  pubsubHost?: string;
  firestoreHost?: string;
  /** Reuse an emulator already answering at the host (otherwise that is "port in use"). */
  reuseIfRunning: boolean;
  /** Also forward emulator output to stdout (it always goes to the log file). */
  verbose?: boolean;
  /** Readiness timeout per emulator. Default 60 s. */
  timeoutMs?: number;
}

export interface EmulatorInfo {
  kind: EmulatorKind;
  host: string;
  /** False when an already running emulator was reused. */
  started: boolean;
  /** Log file of an emulator we started, else null. */
  logFile: string | null;
  /** Time until it answered, ms (0 when reused). */
  startupMs: number;
}

export interface EmulatorsHandle {
  pubsubHost: string;
  firestoreHost: string;
  pubsub: EmulatorInfo;
  firestore: EmulatorInfo;
  /** Kills the emulators this handle started (whole process groups). Idempotent. */
  stop(): Promise<void>;
  /** Synchronous SIGKILL of the emulators this handle started, for `process.on('exit')` and signal handlers. */
  killNow(): void;
}

export class EmulatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorError';
  }
}

const VARIABLE: Record<EmulatorKind, string> = {
  pubsub: 'PUBSUB_EMULATOR_HOST',
  firestore: 'FIRESTORE_EMULATOR_HOST',
};

export const GCLOUD_MISSING =
  'Google Cloud CLI not found: install it with the pubsub-emulator, cloud-firestore-emulator and beta components';

function gcloudArgs(kind: EmulatorKind, host: string, projectId: string): string[] {
  return kind === 'pubsub'
    ? ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--project=${projectId}`]
    : ['emulators', 'firestore', 'start', `--host-port=${host}`];
}

function spawnEmulator(kind: EmulatorKind, host: string, opts: StartEmulatorsOptions): GroupProcess {
  return spawnGroup({
    command: 'gcloud',
    args: gcloudArgs(kind, host, opts.projectId),
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    logFile: path.join(logDir(), `${kind}-emulator-${host.replace(/[^A-Za-z0-9.-]/g, '_')}.log`),
    ...(opts.verbose ? { prefix: `${kind}-emulator`, forward: true } : {}),
  });
}

/** Polls until the emulator answers GET / with 200 "Ok"; fails early when the process exits. */
async function waitReady(
  kind: EmulatorKind,
  host: string,
  proc: GroupProcess,
  timeoutMs: number,
): Promise<void> {
  let exit: Awaited<GroupProcess['exited']> | undefined;
  void proc.exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await probeEmulator(host)) === 'emulator') return;
    if (exit?.error !== undefined) {
      const code = (exit.error as NodeJS.ErrnoException).code;
      throw new EmulatorError(
        code === 'ENOENT' ? GCLOUD_MISSING : `cannot start gcloud: ${exit.error.message}`,
        {
          cause: exit.error,
        },
      );
    }
    const tail = (): string => `; log ${proc.logFile}:\n${logTail(proc.logFile)}`;
    if (exit !== undefined) {
      await proc.stop();
      throw new EmulatorError(`${kind} emulator exited (code ${exit.code}, signal ${exit.signal})${tail()}`);
    }
    if (Date.now() >= deadline) {
      await proc.stop();
      throw new EmulatorError(`${kind} emulator not ready at ${host} after ${timeoutMs} ms${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Started {
  info: EmulatorInfo;
  proc: GroupProcess | null;
}

async function startOne(
  kind: EmulatorKind,
  hostOpt: string | undefined,
  opts: StartEmulatorsOptions,
): Promise<Started> {
  const host = hostOpt ?? `127.0.0.1:${await freePort()}`;
  const found = await probeEmulator(host);
  if (found === 'emulator' && opts.reuseIfRunning) {
    return { info: { kind, host, started: false, logFile: null, startupMs: 0 }, proc: null };
  }
  if (found !== 'none') {
    const what = found === 'emulator' ? 'another emulator' : 'something that is not an emulator';
    throw new EmulatorError(`port in use: ${VARIABLE[kind]}=${host} is taken by ${what}`);
  }
  const t0 = Date.now();
  const proc = spawnEmulator(kind, host, opts);
  await waitReady(kind, host, proc, opts.timeoutMs ?? 60_000);
  return { info: { kind, host, started: true, logFile: proc.logFile, startupMs: Date.now() - t0 }, proc };
}

export async function startEmulators(opts: StartEmulatorsOptions): Promise<EmulatorsHandle> {
  const [ps, fs] = await Promise.allSettled([
    startOne('pubsub', opts.pubsubHost, opts),
    startOne('firestore', opts.firestoreHost, opts),
  ]);
  const procs = [ps, fs].flatMap((r) => (r.status === 'fulfilled' && r.value.proc ? [r.value.proc] : []));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= Promise.all(procs.map((p) => p.stop())).then(() => undefined));
  const killNow = (): void => {
    if (stopped === undefined) procs.forEach((p) => killGroupNow(p.pid));
  };
  if (ps.status === 'rejected' || fs.status === 'rejected') {
    await stop();
    throw ps.status === 'rejected' ? ps.reason : (fs as PromiseRejectedResult).reason;
  }
  return {
    pubsubHost: ps.value.info.host,
    firestoreHost: fs.value.info.host,
    pubsub: ps.value.info,
    firestore: fs.value.info,
    stop,
    killNow,
  };
}

/** Deletes every document of the project's default database in the Firestore emulator. */
export async function resetFirestore(host: string, projectId: string): Promise<void> {
  const url = `http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`;
  const res = await fetch(url, { method: 'DELETE' });
  if (!res.ok)
    throw new EmulatorError(`resetting Firestore at ${host} failed: ${res.status} ${await res.text()}`);
}
