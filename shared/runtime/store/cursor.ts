/**
 * Opaque page cursors for the operator CLI's lists: the position of a list's last item (its sort value and document
 * id, so items sharing a sort value are neither skipped nor repeated), base64url-encoded JSON tagged with the list
 * it belongs to.
 */
export interface Position {
  /** The sort field's value (milliseconds). */
  at: number;
  /** The document id (tie-breaker). */
  id: string;
}

export class CursorError extends Error {}

export function encodeCursor(list: string, p: Position): string {
  return Buffer.from(JSON.stringify([list, p.at, p.id]), 'utf8').toString('base64url');
}

/** Throws CursorError when `cursor` is not a cursor of `list`. */
export function decodeCursor(list: string, cursor: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== list ||
    typeof parsed[1] !== 'number' ||
    !Number.isFinite(parsed[1]) ||
    typeof parsed[2] !== 'string' ||
    parsed[2] === ''
  ) {
    throw new CursorError(`not a cursor of this list (${list}): ${cursor}`);
  }
  return { at: parsed[1], id: parsed[2] };
}

/**
 * One page of a list: its items, each with its own cursor (pass it as `after` to list what follows that item), and
 * `next`, the cursor of the last item when more follow (null on the last page).
 */
export interface Page<T> {
  items: { value: T; cursor: string }[];
  next: string | null;
}

/** The page of `limit` items out of `limit + 1` fetched (the extra one only says that more follow). */
export function pageOf<T>(fetched: { value: T; cursor: string }[], limit: number): Page<T> {
  const items = fetched.slice(0, limit);
  return { items, next: fetched.length > limit ? (items[items.length - 1]?.cursor ?? null) : null };
}
