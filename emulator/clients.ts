/** Client construction for the harness: explicit emulator hosts when given, else the environment's. */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';

/** A Pub/Sub client; `host` (HOST:PORT of an emulator) wins over PUBSUB_EMULATOR_HOST. */
export function pubsubClient(projectId: string, host?: string | null): PubSub {
  return host ? new PubSub({ projectId, apiEndpoint: host, emulatorMode: true }) : new PubSub({ projectId });
}

/**
 * A Firestore client; `host` (HOST:PORT of an emulator) wins over FIRESTORE_EMULATOR_HOST. The library lets the
 * variable win over its settings, so it is swapped for the (synchronous) construction.
 */
export function firestoreClient(projectId: string, host?: string | null): Firestore {
  if (!host) return new Firestore({ projectId });
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = host;
  try {
    return new Firestore({ projectId, host, ssl: false });
  } finally {
    if (saved === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
    else process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
}
