/**
 * Runs one function process and restarts it when it exits unexpectedly, as Cloud Run would (backoff 200 ms,
 * doubling to 2 s; back to 200 ms after it ran for 10 s).
 */
import { appendLog, spawnGroup, type GroupProcess } from './process-group';

export interface SupervisorOptions {
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  forward: boolean;
}

export interface Supervised {
  pid(): number | undefined;
  /** Sends `signal` to the current process (for chaos tests); an exit is then restarted. */
  kill(signal: NodeJS.Signals): void;
  restarts(): number;
  /** Stops the process for good. Idempotent. */
  stop(): Promise<void>;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2000;
const STABLE_MS = 10_000;

export function supervise(opts: SupervisorOptions): Supervised {
  let current: GroupProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let backoff = MIN_BACKOFF_MS;
  let timer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;

  const launch = (): void => {
    timer = undefined;
    const startedAt = Date.now();
    const proc = spawnGroup({ ...opts, prefix: opts.name });
    current = proc;
    void proc.exited.then((exit) => {
      if (stopping || current !== proc) return;
      backoff = Date.now() - startedAt >= STABLE_MS ? MIN_BACKOFF_MS : backoff;
      const why = exit.error?.message ?? `code ${exit.code}, signal ${exit.signal}`;
      appendLog(opts.logFile, `[${opts.name}] exited (${why}); restarting in ${backoff} ms`, opts.forward);
      restarts += 1;
      timer = setTimeout(launch, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    });
  };
  launch();

  return {
    pid: () => current?.pid,
    kill(signal) {
      const pid = current?.pid;
      try {
        if (pid !== undefined) process.kill(pid, signal);
      } catch {
        // already exited: the supervisor restarts it anyway
      }
    },
    restarts: () => restarts,
    stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      return (stopped ??= current?.stop() ?? Promise.resolve());
    },
  };
}
