/**
 * Test-only fault injection, configured by SAGA_FAULTS (comma-separated):
 *   crash-after-commit:<consumer>  the process dies right after a consumer's transaction commits, before it
 *                                  publishes (proves the outbox + redelivery + sweeper recover).
 * In a function process the crash is a real SIGKILL; in-process tests get an InjectedCrash error instead.
 */
import { InjectedCrash } from './errors';

export interface Faults {
  afterCommit(consumer: string): void;
}

export const noFaults: Faults = { afterCommit: () => undefined };

export function createFaults(specs: readonly string[], mode: 'kill' | 'throw'): Faults {
  const crashAfterCommit = new Set(
    specs
      .filter((s) => s.startsWith('crash-after-commit:'))
      .map((s) => s.slice('crash-after-commit:'.length)),
  );
  if (crashAfterCommit.size === 0) return noFaults;
  return {
    afterCommit(consumer) {
      if (!crashAfterCommit.has(consumer) && !crashAfterCommit.has('*')) return;
      if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
      throw new InjectedCrash(`injected crash after commit in ${consumer}`);
    },
  };
}
