/**
 * The composition root: every function's dependencies are built here once per process, from the parsed config.
 * Handlers receive them through `context()`; tests build their own with `buildContext`.
 */
import type { Firestore } from '@google-cloud/firestore';
import { config, type Config } from '../shared/config';
import type { ConsumerDeps } from '../shared/consumer';
import { createFaults } from '../shared/faults';
import { createLogger, setLogLevel, type Logger } from '../shared/log';
import { pubsubPublisher, type Publisher } from '../shared/pubsub/publisher';
import { Orchestrator } from '../shared/saga/orchestrator';
import { DeadLetterStore } from '../shared/store/dead-letters';
import { firestore } from '../shared/store/firestore';
import { MessageStore } from '../shared/store/inbox';
import { SagaRepository } from '../shared/store/sagas';
import { SimulatedGateway, type PaymentGateway } from './payment/gateway';

export interface Context extends ConsumerDeps {
  config: Config;
  db: Firestore;
  sagas: SagaRepository;
  orchestrator: Orchestrator;
  deadLetters: DeadLetterStore;
  gateway: PaymentGateway;
  log: Logger;
  now: () => number;
}

export interface ContextOverrides {
  publisher?: Publisher;
  gateway?: PaymentGateway;
  faultsMode?: 'kill' | 'throw';
  now?: () => number;
}

export function buildContext(
  cfg: Config,
  db: Firestore,
  publisher: Publisher,
  overrides: ContextOverrides = {},
): Context {
  const now = overrides.now ?? Date.now;
  setLogLevel(cfg.logLevel);
  const log = createLogger({ component: process.env.FUNCTION_TARGET ?? 'saga' });
  const store = new MessageStore(db, now);
  const faults = createFaults(cfg.faults, overrides.faultsMode ?? 'kill');
  const sagas = new SagaRepository(db);
  const base = { store, publisher, faults };
  return {
    ...base,
    config: cfg,
    db,
    sagas,
    orchestrator: new Orchestrator({
      ...base,
      sagas,
      engine: { stepTimeoutMs: cfg.stepTimeoutMs, compensationMaxAttempts: cfg.compensationMaxAttempts },
      now,
      log,
    }),
    deadLetters: new DeadLetterStore(db, now),
    gateway: overrides.gateway ?? new SimulatedGateway(db),
    log,
    now,
  };
}

let current: Context | undefined;

export function context(): Context {
  if (!current) {
    const cfg = config();
    current = buildContext(cfg, firestore(), pubsubPublisher(cfg.projectId));
  }
  return current;
}
