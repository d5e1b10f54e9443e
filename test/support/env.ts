/**
 * Per-test-file isolation: every test file uses its own GOOGLE_CLOUD_PROJECT on the shared emulators.
 */
import { resetConfigForTests } from '../../shared/runtime/config';
import { freePort, freePortRange } from '../../emulator/ports';
import { FUNCTION_KEYS } from '../../shared/topology';

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
let counter = 0;

/** A unique, valid project id starting with (a sanitized, shortened) `prefix`. Pure. */
export function uniqueProjectId(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 14)
    .replace(/-+$/, '');
  counter += 1;
  const suffix = `${Date.now().toString(36).slice(-5)}${counter.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const id = `${clean || 'test'}-${suffix}`.slice(0, 30).replace(/-+$/, '');
  if (!PROJECT_ID.test(id)) throw new Error(`generated invalid project id ${id}`);
  return id;
}

/**
 * Makes this test file use a fresh project: sets process.env.GOOGLE_CLOUD_PROJECT (jest gives every test file its
 * own process.env) and resets the cached configuration. Returns the project id.
 */
export function useTestProject(prefix: string): string {
  const projectId = uniqueProjectId(prefix);
  process.env.GOOGLE_CLOUD_PROJECT = projectId;
  resetConfigForTests();
  return projectId;
}

/** Emulator hosts exported by global-setup.ts. */
export function emulatorHosts(): { pubsub: string; firestore: string } {
  const pubsub = process.env.PUBSUB_EMULATOR_HOST;
  const firestore = process.env.FIRESTORE_EMULATOR_HOST;
  if (!pubsub || !firestore) throw new Error('emulator hosts not set: is jest globalSetup configured?');
  return { pubsub, firestore };
}

/**
 * Environment for a test stack (startStack({ env })): the shared emulators, a fresh project, free ports for the
 * functions, seeding skipped unless `overrides` says otherwise.
 */
export async function stackTestEnv(
  prefix: string,
  overrides: NodeJS.ProcessEnv = {},
): Promise<NodeJS.ProcessEnv> {
  const hosts = emulatorHosts();
  const others = FUNCTION_KEYS.length - 1;
  const base = await freePortRange(others);
  let apiPort = await freePort();
  while (apiPort >= base && apiPort < base + others) apiPort = await freePort();
  return {
    GOOGLE_CLOUD_PROJECT: useTestProject(prefix),
    PUBSUB_EMULATOR_HOST: hosts.pubsub,
    FIRESTORE_EMULATOR_HOST: hosts.firestore,
    SAGA_API_PORT: String(apiPort),
    SAGA_FUNCTIONS_BASE_PORT: String(base),
    SAGA_SEED_FILE: 'none',
    ...overrides,
  };
}
