/**
 * Summarises V8 CPU profiles (`node --cpu-prof`) of the function processes: self time by where the code lives
 * (an npm package, the project's own code, node internals, GC, idle), to see what a function's CPU is spent on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function category(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)') {
      return functionName;
    }
    return '(native)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/dist/')) return 'project code';
  return 'other';
}

/** Self time per category in ms, largest first, plus the profile's busy (non-idle) time. */
export function summarize(file: string): { busyMs: number; byCategory: Record<string, number> } {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const c = category(node.callFrame);
    self.set(c, (self.get(c) ?? 0) + (deltas[i] ?? 0) / 1000);
  });
  const busyMs = [...self.entries()].filter(([c]) => c !== '(idle)').reduce((s, [, v]) => s + v, 0);
  const byCategory = Object.fromEntries(
    [...self.entries()]
      .filter(([c]) => c !== '(idle)')
      .sort(([, a], [, b]) => b - a)
      .map(([c, v]) => [c, Math.round(v)]),
  );
  return { busyMs: Math.round(busyMs), byCategory };
}

export type ProfileSummary = { busyMs: number; byCategory: Record<string, number> };

/** One summary per function, from the `<function>.<pid>.cpuprofile` files in `dir` (see cpu-profiler.ts). */
export function summarizeDir(dir: string): Record<string, ProfileSummary> {
  const out: Record<string, ProfileSummary> = {};
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    out[f.split('.')[0]!] = summarize(path.join(dir, f));
  }
  return out;
}
