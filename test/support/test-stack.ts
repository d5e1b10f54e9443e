/** Starts a whole stack for one end-to-end test file: fresh project, free ports, the given seed, quiet logs. */
import { startStack, type Stack } from '../../emulator/stack';
import { ApiClient, writeSeedFile } from './api-client';
import { stackTestEnv } from './env';
import type { Seed } from './invariants';

export interface TestStack {
  stack: Stack;
  api: ApiClient;
  /** The environment the stack runs with (for spawning the CLI against it). */
  env: NodeJS.ProcessEnv;
}

export async function startTestStack(
  prefix: string,
  seed: Seed,
  env: NodeJS.ProcessEnv = {},
): Promise<TestStack> {
  const stackEnv = await stackTestEnv(prefix, {
    SAGA_SEED_FILE: writeSeedFile(seed),
    SAGA_LOG_LEVEL: 'ERROR',
    ...env,
  });
  const stack = await startStack({ env: stackEnv });
  return { stack, api: new ApiClient(stack.apiUrl), env: stackEnv };
}
