/** Starting benchmark stacks on the benchmark's own emulators: free ports, a unique project, cost lines logged. */
import type { EmulatorsHandle } from '../emulator/emulators';
import { freePort, freePortRange } from '../emulator/ports';
import { FUNCTION_KEYS } from '../shared/topology';

export async function stackEnv(
  emulators: EmulatorsHandle,
  project: string,
  extra: NodeJS.ProcessEnv,
): Promise<NodeJS.ProcessEnv> {
  const others = FUNCTION_KEYS.length - 1;
  const base = await freePortRange(others);
  let apiPort = await freePort();
  while (apiPort >= base && apiPort < base + others) apiPort = await freePort();
  return {
    GOOGLE_CLOUD_PROJECT: project,
    PUBSUB_EMULATOR_HOST: emulators.pubsubHost,
    FIRESTORE_EMULATOR_HOST: emulators.firestoreHost,
    SAGA_API_PORT: String(apiPort),
    SAGA_FUNCTIONS_BASE_PORT: String(base),
    // The per-message cost lines are INFO (the default level); the benchmark needs them.
    SAGA_LOG_LEVEL: 'INFO',
    ...extra,
  };
}

export function projectId(kind: string): string {
  return `bench-${kind}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`.slice(0, 30);
}
