// The connection document as the activities use it: load it (optionally marking its sync), write its sync status,
// and refuse one that cannot be synced.
import { log } from '@temporalio/activity';
import { validateConnection, type ValidConnection } from '../domain/connection.ts';
import { FailureType, syncFailure } from '../shared/failures.ts';
import { firstForConnection, storeFailure, type ConnectionRecord } from '../store/index.ts';
import type { ActivityContext } from './deps.ts';

export function connectionRecords({ c }: Pick<ActivityContext, 'c'>) {
  /** The connection, with `sync` set first when given. Not found is final: the app deleted it. */
  async function loadConnection(connectionId: string, sync?: ConnectionRecord['sync']): Promise<ConnectionRecord> {
    const doc = await firstForConnection(connectionId, (filter) =>
      sync
        ? c.connections.findOneAndUpdate(filter, { $set: { sync } }, { returnDocument: 'after' })
        : c.connections.findOne(filter),
    );
    if (doc) return doc;
    throw syncFailure(
      FailureType.ConnectionNotFound,
      `Connection ${connectionId} does not exist (deleted after the sync was scheduled?)`,
    );
  }

  /** Writes connections.sync; false when the connection is gone. Throws unless the server acknowledged the write. */
  async function setSync(connectionId: string, fields: Record<string, unknown>): Promise<boolean> {
    const $set = Object.fromEntries(Object.entries(fields).map(([k, v]) => [`sync.${k}`, v]));
    const matched = await firstForConnection(connectionId, async (filter) => {
      const result = await c.connections.updateOne(filter, { $set });
      if (!result.acknowledged) throw storeFailure(`the status write of connection ${connectionId}`);
      return result.matchedCount > 0 ? true : null;
    });
    if (matched) return true;
    log.warn('Connection deleted during its sync; status not recorded', { connectionId });
    return false;
  }

  return { loadConnection, setSync };
}

export type ConnectionRecords = ReturnType<typeof connectionRecords>;

export function requireValid(doc: ConnectionRecord): ValidConnection {
  const check = validateConnection(doc);
  if (check.ok) return check.connection;
  throw syncFailure(
    FailureType.InvalidConnection,
    `Connection ${String(doc._id)} cannot be synced: ${check.problems.join('; ')}. Fix the connection and sync again.`,
  );
}
