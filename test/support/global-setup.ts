/**
 * Jest globalSetup: starts both emulators on free ports (never reusing anything, so a running `npm start` is left
 * alone) and exports their hosts through process.env, which the test workers inherit. Test files isolate
 * themselves with a unique GOOGLE_CLOUD_PROJECT (see env.ts): the emulators namespace all data by project.
 */
import { startEmulators, type EmulatorsHandle } from '../../emulator/emulators';

export const TEST_PROJECT = 'demo-saga-test';

export interface TestGlobals {
  __sagaEmulators?: EmulatorsHandle;
}

export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const handle = await startEmulators({ projectId: TEST_PROJECT, reuseIfRunning: false });
  process.env.PUBSUB_EMULATOR_HOST = handle.pubsubHost;
  process.env.FIRESTORE_EMULATOR_HOST = handle.firestoreHost;
  process.env.GOOGLE_CLOUD_PROJECT = TEST_PROJECT;
  // Emulators only: skip the client libraries' GCE metadata-server probe (slow, and warns on every client).
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  (globalThis as TestGlobals).__sagaEmulators = handle;
  // If jest dies without running globalTeardown, do not leave the emulators (own process groups) behind.
  process.once('exit', () => handle.killNow());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      handle.killNow();
      process.exit(130);
    });
  }
  process.stderr.write(
    `\nemulators: pubsub ${handle.pubsubHost}, firestore ${handle.firestoreHost} (${Date.now() - t0} ms)\n`,
  );
}
