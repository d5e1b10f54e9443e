/**
 * Helpers for a participant's read views (`ResourceApi`, `GET /<resource>/{id}`); each participant declares its
 * views next to its contract (shared/participants/<name>.ts).
 */
import type { DocumentSnapshot, Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { docId } from '../store/collections';
import type { ResourceApi } from './declarations';

/** `<collection>/{id}`, or null when there is no such document. */
export async function readResource(
  db: Firestore,
  collection: string,
  id: string,
): Promise<DocumentSnapshot | null> {
  const snap = await db.collection(collection).doc(docId(id)).get();
  return snap.exists ? snap : null;
}

/** A resource with one counter: `{<idName>, <field>}` from `<collection>/{id}`. */
export function counterView(
  resource: string,
  idName: string,
  what: string,
  collection: string,
  field: string,
): ResourceApi {
  return {
    resource,
    idName,
    what,
    read: async (db, id) => {
      const snap = await readResource(db, collection, id);
      return snap ? { [idName]: id, [field]: Number(snap.get(field)) } : null;
    },
    viewSchema: z.object({ [idName]: z.string(), [field]: z.number().int() }),
  };
}
