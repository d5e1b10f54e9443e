/**
 * CPU time of the benchmark's own process tree (Linux /proc): the emulators, each function process, and the bench
 * process itself (load driver, front doors, log forwarding, taps). Diffing two snapshots shows where a phase's CPU
 * went. Elsewhere (no /proc) the snapshots are empty.
 */
import * as fs from 'node:fs';

export type CpuSnapshot = Map<number, { label: string; ticks: number; pgid: number }>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; pgid: number; ticks: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    return { ppid: Number(f[1]), pgid: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function label(pid: number): string {
  if (pid === process.pid) return 'bench process';
  let cmd = '';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return 'other';
  }
  if (cmd.includes('pubsub-emulator')) return 'pubsub emulator';
  if (cmd.includes('firestore-emulator')) return 'firestore emulator';
  const target = /--target=(\S+)/.exec(cmd);
  if (target) return `fn ${target[1]}`;
  return 'other';
}

export function cpuSnapshot(): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  let pids: number[];
  try {
    pids = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return snap;
  }
  const children = new Map<number, number[]>();
  const stats = new Map<number, { ppid: number; pgid: number; ticks: number }>();
  for (const pid of pids) {
    const s = stat(pid);
    if (!s) continue;
    stats.set(pid, s);
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const queue = [process.pid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const s = stats.get(pid);
    if (s) snap.set(pid, { label: label(pid), ticks: s.ticks, pgid: s.pgid });
    queue.push(...(children.get(pid) ?? []));
  }
  return snap;
}

/** CPU seconds per label between two snapshots, largest first, leaving out the `exclude`d process groups. */
export function cpuSeconds(
  before: CpuSnapshot,
  after: CpuSnapshot,
  exclude: ReadonlySet<number> = new Set(),
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, a] of after) {
    if (exclude.has(pid) || exclude.has(a.pgid)) continue;
    const used = a.ticks - (before.get(pid)?.ticks ?? 0);
    out[a.label] = (out[a.label] ?? 0) + used / TICKS_PER_SECOND;
  }
  return Object.fromEntries(
    Object.entries(out)
      .filter(([, v]) => v > 0)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => [k, Math.round(v * 10) / 10]),
  );
}
