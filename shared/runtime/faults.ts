/**
 * Test-only fault injection, configured by SAGA_FAULTS (comma-separated):
 *   crash-after-commit:<consumer>  the process dies right after a consumer's transaction commits, before it
 *                                  publishes (proves the outbox + redelivery + sweeper recover).
 *   fail-publish:<consumer>        the publish right after a consumer's commit fails (TransientError); the
 *                                  sweeper's republish of the outbox is not affected.
 * In a function process the crash is a real SIGKILL; in-process tests get an InjectedCrash error instead.
 */
import { InjectedCrash, TransientError } from './errors';

export interface Faults {
  afterCommit(consumer: string): void;
  /** Called right before a consumer publishes what it just committed. */
  beforePublish(consumer: string): void;
}

export const noFaults: Faults = { afterCommit: () => undefined, beforePublish: () => undefined };

export function createFaults(specs: readonly string[], mode: 'kill' | 'throw'): Faults {
  const targets = (prefix: string): Set<string> =>
    new Set(specs.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length)));
  const crashAfterCommit = targets('crash-after-commit:');
  const failPublish = targets('fail-publish:');
  if (crashAfterCommit.size === 0 && failPublish.size === 0) return noFaults;
  const hits = (set: Set<string>, consumer: string): boolean => set.has(consumer) || set.has('*');
  return {
    afterCommit(consumer) {
      if (!hits(crashAfterCommit, consumer)) return;
      if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
      throw new InjectedCrash(`injected crash after commit in ${consumer}`);
    },
    beforePublish(consumer) {
      if (hits(failPublish, consumer)) throw new TransientError(`injected publish failure in ${consumer}`);
    },
  };
}
