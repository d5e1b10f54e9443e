/** The Firestore client, created once per process from the parsed configuration. */
import { Firestore } from '@google-cloud/firestore';
import { config } from '../config';

let db: Firestore | undefined;

export function firestore(): Firestore {
  if (!db) {
    const c = config();
    db = new Firestore({ projectId: c.projectId, ignoreUndefinedProperties: true });
  }
  return db;
}
