/**
 * parseConfig: the defaults of contract §2, validation of every variable (the error names the variable), and the
 * local-vs-cloud emulator defaults. parseConfig is pure: it never reads process.env.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { checkStartVersions, ConfigError, parseConfig } from '../../shared/runtime/config';
import { defineSaga, Registry, step } from '../../shared/runtime/registry';
import { credit } from '../../shared/participants/credit';
import { registry as deployment } from '../../shared/registry';

const data = z.object({ orderId: z.string(), customerId: z.string(), amountCents: z.number() });
const creditStep = step({ participant: credit, payload: (d: z.infer<typeof data>) => d });
const saga = (type: string, version: number) =>
  defineSaga({
    definition: { type, version, steps: ['credit'] },
    dataSchema: data,
    steps: { credit: creditStep },
  });
const [a1, a2, b1] = [saga('a', 1), saga('a', 2), saga('b', 1)];

/** Expects parseConfig(env) to throw a ConfigError naming `variable`; returns its message. */
function rejects(env: NodeJS.ProcessEnv, variable: string): string {
  let caught: unknown;
  try {
    parseConfig(env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const message = (caught as ConfigError).message;
  expect(message).toContain(variable);
  return message;
}

describe('parseConfig defaults (contract §2)', () => {
  it('an empty environment gives the documented local defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      projectId: 'demo-saga',
      pubsubEmulatorHost: '127.0.0.1:8085',
      firestoreEmulatorHost: '127.0.0.1:8086',
      apiPort: 8080,
      functionsBasePort: 8100,
      stepTimeoutMs: 30_000,
      sweepIntervalMs: 5_000,
      maxDeliveryAttempts: 5,
      retryMinBackoffS: 1,
      retryMaxBackoffS: 10,
      seedFile: 'emulator/seed.json',
      faults: [],
    });
  });

  it('does not read process.env', () => {
    const saved = process.env.SAGA_API_PORT;
    process.env.SAGA_API_PORT = '9999';
    try {
      expect(parseConfig({}).apiPort).toBe(8080);
    } finally {
      if (saved === undefined) delete process.env.SAGA_API_PORT;
      else process.env.SAGA_API_PORT = saved;
    }
  });

  it('reads every documented variable', () => {
    const c = parseConfig({
      GOOGLE_CLOUD_PROJECT: 'my-project-123',
      PUBSUB_EMULATOR_HOST: 'localhost:9085',
      FIRESTORE_EMULATOR_HOST: '[::1]:9086',
      SAGA_API_PORT: '18080',
      SAGA_FUNCTIONS_BASE_PORT: '18100',
      SAGA_STEP_TIMEOUT_MS: '2500',
      SAGA_SWEEP_INTERVAL_MS: '250',
      SAGA_MAX_DELIVERY_ATTEMPTS: '7',
      SAGA_RETRY_MIN_BACKOFF_S: '0.5',
      SAGA_RETRY_MAX_BACKOFF_S: '2',
      SAGA_SEED_FILE: 'none',
      SAGA_FAULTS: ' crash-after-commit:credit , ,crash-after-commit:api',
    });
    expect(c).toMatchObject({
      projectId: 'my-project-123',
      pubsubEmulatorHost: 'localhost:9085',
      firestoreEmulatorHost: '[::1]:9086',
      apiPort: 18080,
      functionsBasePort: 18100,
      stepTimeoutMs: 2500,
      sweepIntervalMs: 250,
      maxDeliveryAttempts: 7,
      retryMinBackoffS: 0.5,
      retryMaxBackoffS: 2,
      seedFile: 'none',
      faults: ['crash-after-commit:credit', 'crash-after-commit:api'],
    });
  });

  it.each(['5', '100'])('SAGA_MAX_DELIVERY_ATTEMPTS=%s (Pub/Sub bound) is accepted', (v) => {
    expect(parseConfig({ SAGA_MAX_DELIVERY_ATTEMPTS: v }).maxDeliveryAttempts).toBe(Number(v));
  });

  it('equal min and max backoff are accepted', () => {
    const c = parseConfig({ SAGA_RETRY_MIN_BACKOFF_S: '3', SAGA_RETRY_MAX_BACKOFF_S: '3' });
    expect([c.retryMinBackoffS, c.retryMaxBackoffS]).toEqual([3, 3]);
  });
});

describe('parseConfig rejects invalid values, naming the variable', () => {
  it.each([
    ['SAGA_MAX_DELIVERY_ATTEMPTS', '4'],
    ['SAGA_MAX_DELIVERY_ATTEMPTS', '101'],
    ['SAGA_MAX_DELIVERY_ATTEMPTS', '5.5'],
    ['SAGA_MAX_DELIVERY_ATTEMPTS', 'five'],
    ['SAGA_API_PORT', 'abc'],
    ['SAGA_API_PORT', '0'],
    ['SAGA_API_PORT', '65536'],
    ['SAGA_API_PORT', '80.5'],
    ['SAGA_FUNCTIONS_BASE_PORT', '-1'],
    ['SAGA_FUNCTIONS_BASE_PORT', 'x'],
    ['SAGA_STEP_TIMEOUT_MS', 'soon'],
    ['SAGA_STEP_TIMEOUT_MS', '-5'],
    ['SAGA_SWEEP_INTERVAL_MS', 'often'],
    ['SAGA_RETRY_MIN_BACKOFF_S', '-1'],
    ['SAGA_RETRY_MAX_BACKOFF_S', '601'],
    ['SAGA_RETRY_MAX_BACKOFF_S', 'ten'],
    ['GOOGLE_CLOUD_PROJECT', 'Bad_Project'],
    ['GOOGLE_CLOUD_PROJECT', 'abc'],
    ['GOOGLE_CLOUD_PROJECT', '1project'],
    ['GOOGLE_CLOUD_PROJECT', 'project-'],
    ['GOOGLE_CLOUD_PROJECT', 'a'.repeat(31)],
    ['GOOGLE_CLOUD_PROJECT', ''],
    ['PUBSUB_EMULATOR_HOST', 'localhost'],
    ['PUBSUB_EMULATOR_HOST', 'http://localhost:8085'],
    ['FIRESTORE_EMULATOR_HOST', 'host:port'],
    ['SAGA_SEED_FILE', ''],
  ])('%s=%j', (variable, value) => {
    const message = rejects({ [variable]: value }, variable);
    // The message shows the offending value.
    expect(message).toContain(JSON.stringify(value));
  });

  it('min backoff greater than max backoff names the variable', () => {
    const message = rejects(
      { SAGA_RETRY_MIN_BACKOFF_S: '11', SAGA_RETRY_MAX_BACKOFF_S: '10' },
      'SAGA_RETRY_MIN_BACKOFF_S',
    );
    expect(message).toContain('SAGA_RETRY_MAX_BACKOFF_S');
  });

  it('min backoff greater than the default max backoff is rejected', () => {
    rejects({ SAGA_RETRY_MIN_BACKOFF_S: '20' }, 'SAGA_RETRY_MIN_BACKOFF_S');
  });

  it('names every invalid variable at once', () => {
    let message = '';
    try {
      parseConfig({ SAGA_API_PORT: 'abc', SAGA_MAX_DELIVERY_ATTEMPTS: '4', GOOGLE_CLOUD_PROJECT: 'X' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const v of ['SAGA_API_PORT', 'SAGA_MAX_DELIVERY_ATTEMPTS', 'GOOGLE_CLOUD_PROJECT']) {
      expect(message).toContain(v);
    }
  });

  it('ignores variables it does not know', () => {
    expect(() => parseConfig({ PATH: '/usr/bin', SOMETHING_ELSE: '!!' })).not.toThrow();
  });
});

describe('emulator hosts', () => {
  it('K_SERVICE set (Cloud Run / Functions) → no emulator defaults', () => {
    const c = parseConfig({ K_SERVICE: 'credit', GOOGLE_CLOUD_PROJECT: 'prod-project' });
    expect(c.pubsubEmulatorHost).toBeNull();
    expect(c.firestoreEmulatorHost).toBeNull();
    expect(c.projectId).toBe('prod-project');
  });

  it('K_SERVICE set with explicit emulator hosts keeps them', () => {
    const c = parseConfig({ K_SERVICE: 'credit', PUBSUB_EMULATOR_HOST: '10.0.0.1:8085' });
    expect(c.pubsubEmulatorHost).toBe('10.0.0.1:8085');
    expect(c.firestoreEmulatorHost).toBeNull();
  });

  it.each([
    ['PUBSUB_EMULATOR_HOST', 'pubsubEmulatorHost', 'firestoreEmulatorHost', '127.0.0.1:8086'],
    ['FIRESTORE_EMULATOR_HOST', 'firestoreEmulatorHost', 'pubsubEmulatorHost', '127.0.0.1:8085'],
  ] as const)(
    'empty %s → null (real Google Cloud), the other keeps its default',
    (variable, key, other, def) => {
      const c = parseConfig({ [variable]: '' });
      expect(c[key]).toBeNull();
      expect(c[other]).toBe(def);
    },
  );
});

describe('SAGA_START_VERSIONS', () => {
  const registry = new Registry({ participants: [credit], sagas: [a1, a2, b1] });
  const parse = (value: string) => parseConfig({ SAGA_START_VERSIONS: value }).startVersions;

  it('is empty by default: every type starts on its newest version', () => {
    expect([...parseConfig({}).startVersions]).toEqual([]);
    expect(() => checkStartVersions(parseConfig({}), registry)).not.toThrow();
  });

  it('parses a comma-separated list of type=version (spaces and empty entries allowed)', () => {
    expect([...parse('a=1')]).toEqual([['a', 1]]);
    expect([...parse(' a = 1 , b=1,')]).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(() => checkStartVersions({ startVersions: parse('a=1,b=1') }, registry)).not.toThrow();
  });

  it.each(['a', 'a=', '=1', 'a=0', 'a=-1', 'a=1.5', 'a=x', 'a=1=2', 'a b=1', 'a=1;b=2', 'a=1,a=2'])(
    'rejects the malformed %j, naming the variable',
    (value) => {
      expect(rejects({ SAGA_START_VERSIONS: value }, 'SAGA_START_VERSIONS')).toContain(JSON.stringify(value));
    },
  );

  it('an unknown saga type stops the composition with a message naming the variable and the type', () => {
    let caught: unknown;
    try {
      checkStartVersions({ startVersions: parse('a=1,nope=1') }, registry);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(/SAGA_START_VERSIONS: unknown saga type nope \(known: a, b\)/);
  });

  it('an unknown version of a known type names the type, the version and the known versions', () => {
    expect(() => checkStartVersions({ startVersions: parse('b=2') }, registry)).toThrow(
      /SAGA_START_VERSIONS: saga type b has no definition version 2 \(known: 1\)/,
    );
    expect(() => checkStartVersions({ startVersions: parse('a=3') }, registry)).toThrow(
      /saga type a has no definition version 3 \(known: 1, 2\)/,
    );
  });

  it('the deployment: trip-booking=1 and =2 are valid, trip-booking=3 is not', () => {
    expect(() => checkStartVersions({ startVersions: parse('trip-booking=1') }, deployment)).not.toThrow();
    expect(() =>
      checkStartVersions({ startVersions: parse('trip-booking=2,order-placement=1') }, deployment),
    ).not.toThrow();
    expect(() => checkStartVersions({ startVersions: parse('trip-booking=3') }, deployment)).toThrow(
      /trip-booking has no definition version 3 \(known: 1, 2\)/,
    );
  });
});

describe('SAGA_TRACING and SAGA_TRACE_DIR', () => {
  it('default: local on the emulators, cloud on Google Cloud; no trace directory unless given', () => {
    expect(parseConfig({})).toMatchObject({ tracing: 'local', traceDir: null });
    expect(parseConfig({ K_SERVICE: 'credit' }).tracing).toBe('cloud');
    expect(parseConfig({ PUBSUB_EMULATOR_HOST: '', FIRESTORE_EMULATOR_HOST: '' }).tracing).toBe('cloud');
  });

  it('takes off, local and cloud, and the directory', () => {
    expect(parseConfig({ SAGA_TRACING: 'off' }).tracing).toBe('off');
    const dir = path.join(os.tmpdir(), 'saga-traces-test');
    expect(parseConfig({ K_SERVICE: 'x', SAGA_TRACING: 'local', SAGA_TRACE_DIR: dir })).toMatchObject({
      tracing: 'local',
      traceDir: dir,
    });
  });

  it('rejects anything else, naming the variable', () => {
    rejects({ SAGA_TRACING: 'on' }, 'SAGA_TRACING');
    rejects({ SAGA_TRACE_DIR: '' }, 'SAGA_TRACE_DIR');
  });
});
