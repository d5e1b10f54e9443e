/**
 * Child processes in their own process group, with output appended to a log file (and optionally forwarded to our
 * stdout with a prefix). Stopping kills the whole group: the `gcloud … emulators … start` wrapper leaves its Java
 * emulator behind if only the wrapper is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface GroupProcessOptions {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Output is appended here, line by line (each line prefixed with `[prefix] ` when a prefix is set). */
  logFile: string;
  prefix?: string;
  /** Also write the output to our stdout, each line prefixed with `[prefix] `. */
  forward?: boolean;
}

export interface GroupProcess {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  readonly logFile: string;
  /** Resolves when the process (group leader) exits or fails to spawn. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  /** Kills the whole group: SIGTERM, then SIGKILL after `graceMs`. Resolves once the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Appends one line to a log file (and to stdout when `forward`), for the harness's own notes. */
export function appendLog(file: string, line: string, forward = false): void {
  fs.appendFileSync(file, `${line}\n`);
  if (forward) process.stdout.write(`${line}\n`);
}

/** Directory for harness logs under the OS temp dir. */
export function logDir(): string {
  const dir = path.join(os.tmpdir(), 'gcp-saga-logs');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Last `lines` lines of a log file ('' if unreadable). */
export function logTail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Splits a byte stream into lines and hands each complete line to `onLine`. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; flush(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    },
    flush() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

export function spawnGroup(opts: GroupProcessOptions): GroupProcess {
  const log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(opts.command, [...opts.args], {
    detached: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = opts.prefix === undefined ? '' : `[${opts.prefix}] `;
  const splitters = [child.stdout, child.stderr].map((stream) => {
    const splitter = lineSplitter((line) => {
      log.write(`${tag}${line}\n`);
      if (opts.forward) process.stdout.write(`${tag}${line}\n`);
    });
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    stream.on('end', () => splitter.flush());
    return splitter;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  child.once('close', () => {
    splitters.forEach((sp) => sp.flush());
    log.end();
  });
  child.once('error', () => log.end());
  return {
    child,
    pid: child.pid,
    logFile: opts.logFile,
    exited,
    stop: (graceMs) => killGroup(child.pid, graceMs),
  };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** SIGTERM the process group, SIGKILL it if still alive after `graceMs`. */
export async function killGroup(pgid: number | undefined, graceMs = 3000): Promise<void> {
  if (pgid === undefined || !groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGone(pgid, 2000);
}

/** Synchronous best-effort SIGKILL of a group, for `process.on('exit')`. */
export function killGroupNow(pgid: number | undefined): void {
  if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
}
