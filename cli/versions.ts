/**
 * `npm run saga -- versions`: for each saga type and definition version, its steps (stages), how many sagas run on
 * it and how many finished, and which version new sagas start on — including versions (and types) recorded in
 * Firestore that this code does not know. Aggregation counts and one query per distinct type / version; no scan.
 */
import { TERMINAL_STATUSES, type SagaDefinition, type SagaStatus } from '../shared/runtime/engine/types';
import { versionOf, type Registry } from '../shared/runtime/registry';
import type { SagaRepository } from '../shared/runtime/store/sagas';
import { table } from './table';

export interface VersionRow {
  type: string;
  version: number;
  /** False for a type or version found in Firestore that this code does not know. */
  known: boolean;
  /** The steps, and the stages they run in (null when unknown). */
  steps: string[] | null;
  stages: string[][] | null;
  /** e.g. `flight → hotel ∥ car → payment` (null when unknown). */
  flow: string | null;
  /** STARTED or COMPENSATING. */
  running: number;
  /** SUCCEEDED, ABORTED or FAILED. */
  finished: number;
  /** True for the version new sagas of the type start on. */
  startsNew: boolean;
}

const RUNNING: readonly SagaStatus[] = ['STARTED', 'COMPENSATING'];

/** The stages of a definition (a step per stage when it declares none). */
export function stagesOf(def: SagaDefinition): string[][] {
  return (def.stages ?? def.steps.map((s) => [s])).map((stage) => [...stage]);
}

/** `flight → hotel ∥ car → payment`: stages in order, the steps of a stage in parallel. */
export function flowOf(def: SagaDefinition): string {
  return stagesOf(def)
    .map((stage) => stage.join(' ∥ '))
    .join(' → ');
}

export async function versionsReport(
  sagas: Pick<SagaRepository, 'types' | 'definitionVersions' | 'countByStatus'>,
  registry: Registry,
  startVersions: ReadonlyMap<string, number>,
): Promise<VersionRow[]> {
  const stored = await sagas.types();
  const types = [...new Set([...registry.types(), ...stored])].sort();
  const perType = await Promise.all(
    types.map(async (type): Promise<VersionRow[]> => {
      const inStore = stored.includes(type);
      const recorded = inStore ? await sagas.definitionVersions(type) : [];
      const versions = [...new Set([...registry.versions(type), ...recorded])].sort((a, b) => a - b);
      const [total, ...each] = await Promise.all([
        inStore ? sagas.countByStatus(type) : null,
        ...versions.map((v) => (recorded.includes(v) ? sagas.countByStatus(type, v) : null)),
      ]);
      const start = registry.startBinding(type, startVersions);
      const rows = versions.map((version, i): VersionRow => {
        const binding = registry.binding(type, version);
        const counts = each[i] ?? null;
        return {
          type,
          version,
          known: binding !== undefined,
          steps: binding ? [...binding.definition.steps] : null,
          stages: binding ? stagesOf(binding.definition) : null,
          flow: binding ? flowOf(binding.definition) : null,
          running: counts ? sum(counts, RUNNING) : 0,
          finished: counts ? sum(counts, TERMINAL_STATUSES) : 0,
          startsNew: start !== undefined && versionOf(start) === version,
        };
      });
      // Sagas written before versions were recorded have no definitionVersion: they run on version 1.
      if (total) {
        const legacyRunning = sum(total, RUNNING) - rows.reduce((n, r) => n + r.running, 0);
        const legacyFinished = sum(total, TERMINAL_STATUSES) - rows.reduce((n, r) => n + r.finished, 0);
        if (legacyRunning > 0 || legacyFinished > 0) {
          let v1 = rows.find((r) => r.version === 1);
          if (!v1) {
            v1 = unknownRow(type, 1);
            rows.unshift(v1);
          }
          v1.running += legacyRunning;
          v1.finished += legacyFinished;
        }
      }
      return rows;
    }),
  );
  return perType.flat();
}

function unknownRow(type: string, version: number): VersionRow {
  return {
    type,
    version,
    known: false,
    steps: null,
    stages: null,
    flow: null,
    running: 0,
    finished: 0,
    startsNew: false,
  };
}

function sum(counts: Record<SagaStatus, number>, statuses: readonly SagaStatus[]): number {
  return statuses.reduce((n, s) => n + counts[s], 0);
}

export function versionsText(
  rows: readonly VersionRow[],
  startVersions: ReadonlyMap<string, number>,
): string {
  const named = [...startVersions].map(([t, v]) => `${t}=${v}`).join(',');
  return [
    table(
      ['type', 'version', 'steps', 'running', 'finished', 'new sagas'],
      rows.map((r) => [
        r.type,
        `v${r.version}`,
        r.flow ?? '(unknown to this code)',
        String(r.running),
        String(r.finished),
        r.startsNew ? 'start here' : '',
      ]),
    ),
    '',
    `new sagas start on the newest version of their type${named ? `, except SAGA_START_VERSIONS=${named}` : ''}`,
  ].join('\n');
}
