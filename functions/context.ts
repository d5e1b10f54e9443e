/**
 * The composition root: every function's dependencies are built here once per process, from the parsed config and
 * this deployment's registry. Handlers receive them through `context()`; tests build their own with `buildContext`.
 */
import type { Firestore } from '@google-cloud/firestore';
import { config, ConfigError, type Config } from '../shared/runtime/config';
import { buildRuntimeContext, type RuntimeContext, type RuntimeOverrides } from '../shared/runtime/context';
import { pubsubPublisher, type Publisher } from '../shared/runtime/pubsub/publisher';
import { firestore } from '../shared/runtime/store/firestore';
import { installTracing } from '../shared/runtime/telemetry/tracing-sdk';
import { installMetrics } from '../shared/runtime/telemetry/metrics-sdk';
import { functionTarget } from './body-parser-patch';
import { registry } from '../shared/registry';
import type { Registry } from '../shared/runtime/registry';
import { deriveTopology } from '../shared/runtime/topology';
import { topology } from '../shared/topology';
import { SimulatedGateway, type PaymentGateway } from './payment/gateway';

export interface Context extends RuntimeContext {
  gateway: PaymentGateway;
}

export interface ContextOverrides extends RuntimeOverrides {
  publisher?: Publisher;
  gateway?: PaymentGateway;
  /** Another deployment's sagas and participants (tests); the topology is derived from it. */
  registry?: Registry;
}

export function buildContext(
  cfg: Config,
  db: Firestore,
  publisher: Publisher,
  overrides: ContextOverrides = {},
): Context {
  return {
    ...buildRuntimeContext(
      cfg,
      db,
      overrides.publisher ?? publisher,
      overrides.registry
        ? { registry: overrides.registry, topology: deriveTopology(overrides.registry) }
        : { registry, topology },
      overrides,
    ),
    gateway: overrides.gateway ?? new SimulatedGateway(db),
  };
}

let current: Context | undefined;

/** This process's context; an invalid configuration (e.g. an unknown SAGA_START_VERSIONS entry) stops the process. */
export function context(): Context {
  if (!current) {
    try {
      const cfg = config();
      // Before any span: tracing as SAGA_TRACING says, the function's name as the spans' service.
      installTracing(cfg, functionTarget() ?? process.env.K_SERVICE ?? 'saga');
      current = buildContext(cfg, firestore(), pubsubPublisher(cfg.projectId));
      installMetrics(cfg, functionTarget() ?? 'saga'); // SAGA_METRICS: off, local or cloud
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
  }
  return current;
}
