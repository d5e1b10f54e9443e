/** Jest globalTeardown: stops the emulators started by global-setup.ts. */
import type { TestGlobals } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as TestGlobals;
  await g.__sagaEmulators?.stop();
  delete g.__sagaEmulators;
}
