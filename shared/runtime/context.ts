/**
 * What every function of the runtime works with, built once per process from the parsed config and the
 * deployment's registry (the application's composition root, functions/context.ts, adds its own adapters).
 */
import type { Firestore } from '@google-cloud/firestore';
import { checkStartVersions, type Config } from './config';
import type { ConsumerDeps } from './consumer';
import { createFaults } from './faults';
import { createLogger, setLogLevel, type Logger } from './log';
import type { Publisher } from './pubsub/publisher';
import type { Registry } from './registry';
import { Orchestrator } from './saga/orchestrator';
import { DeadLetterStore } from './store/dead-letters';
import { MessageStore } from './store/inbox';
import { SagaRepository } from './store/sagas';
import type { Topology } from './topology';

export interface RuntimeContext extends ConsumerDeps {
  config: Config;
  db: Firestore;
  topology: Topology;
  sagas: SagaRepository;
  orchestrator: Orchestrator;
  deadLetters: DeadLetterStore;
  log: Logger;
  now: () => number;
}

export interface RuntimeOverrides {
  faultsMode?: 'kill' | 'throw';
  now?: () => number;
}

export function buildRuntimeContext(
  cfg: Config,
  db: Firestore,
  publisher: Publisher,
  deployment: { registry: Registry; topology: Topology },
  overrides: RuntimeOverrides = {},
): RuntimeContext {
  // Fails the composition (ConfigError) on a start version the registry does not know.
  checkStartVersions(cfg, deployment.registry);
  const now = overrides.now ?? Date.now;
  setLogLevel(cfg.logLevel);
  const log = createLogger({ component: process.env.FUNCTION_TARGET ?? 'saga' });
  const store = new MessageStore(db, now);
  const faults = createFaults(cfg.faults, overrides.faultsMode ?? 'kill');
  const sagas = new SagaRepository(db);
  const base = { store, publisher, faults, registry: deployment.registry };
  return {
    ...base,
    config: cfg,
    db,
    topology: deployment.topology,
    sagas,
    orchestrator: new Orchestrator({
      ...base,
      sagas,
      engine: {
        stepTimeoutMs: cfg.stepTimeoutMs,
        scheduleToStartMs: cfg.scheduleToStartMs,
        compensationMaxAttempts: cfg.compensationMaxAttempts,
      },
      now,
      log,
    }),
    deadLetters: new DeadLetterStore(db, now),
    log,
    now,
  };
}
