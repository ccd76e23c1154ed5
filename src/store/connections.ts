import { ObjectId, type Filter } from 'mongodb';
import type { ConnectionRecord } from './records.ts';

/**
 * Connection ids reach us as strings, while the app may store ObjectIds. The exact `{_id}` filter is
 * tried first because it is the one filter every server (FerretDB included) answers from an index.
 */
export function connectionIdFilters(connectionId: string): Filter<ConnectionRecord>[] {
  const filters: Filter<ConnectionRecord>[] = [{ _id: connectionId }];
  if (/^[0-9a-f]{24}$/i.test(connectionId)) filters.push({ _id: new ObjectId(connectionId) });
  return filters;
}

/**
 * The first non-null answer of `query` over the filters a connection id may match (its string, then its ObjectId):
 * the one connection lookup the activities, the client and the CLI share.
 */
export async function firstForConnection<T>(
  connectionId: string,
  query: (filter: Filter<ConnectionRecord>) => Promise<T | null | undefined>,
): Promise<T | null> {
  for (const filter of connectionIdFilters(connectionId)) {
    const found = await query(filter);
    if (found !== null && found !== undefined) return found;
  }
  return null;
}
