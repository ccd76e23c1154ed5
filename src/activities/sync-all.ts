import { ObjectId, type Filter } from 'mongodb';
import type { ConnectionCursor, ConnectionsPage, SyncRunRecord } from '../shared/types.ts';
import { collections, storeFailure, type ConnectionRecord } from '../store/index.ts';
import type { ActivityDeps } from './deps.ts';

const SYNCABLE: Filter<ConnectionRecord> = { provider: 'aws', disabled: { $ne: true } };
/** Staged pages of a run that died without recording an outcome; no sync lives anywhere near this long. */
const STAGING_MAX_AGE_MS = 24 * 3_600_000;

export function createSyncAllActivities(deps: Pick<ActivityDeps, 'db' | 'clock'>) {
  const c = collections(deps.db);

  /**
   * One page of syncable connection ids in _id order. BSON orders every string before every ObjectId,
   * so the cursor remembers which kind it stopped on.
   */
  async function listConnectionsPage(input: {
    cursor: ConnectionCursor | null;
    limit: number;
  }): Promise<ConnectionsPage> {
    const { cursor, limit } = input;
    let position: Filter<ConnectionRecord> = {};
    if (cursor?.kind === 'string') {
      position = { $or: [{ _id: { $gt: cursor.value } }, { _id: { $type: 'objectId' } }] };
    } else if (cursor?.kind === 'objectId') {
      position = { _id: { $gt: new ObjectId(cursor.value) } };
    }
    const docs = await c.connections
      .find({ ...SYNCABLE, ...position }, { projection: { _id: 1 }, sort: { _id: 1 }, limit })
      .toArray();
    const entries = docs.map((d): ConnectionCursor =>
      d._id instanceof ObjectId
        ? { kind: 'objectId', value: d._id.toHexString() }
        : { kind: 'string', value: String(d._id) },
    );
    return { entries, next: entries.length < limit ? null : (entries.at(-1) ?? null) };
  }

  /** The app's "last full sync": one document per SyncAll chain, rewritten at each run boundary. */
  async function recordSyncRun(record: SyncRunRecord): Promise<void> {
    const result = await c.syncRuns.replaceOne(
      { _id: record.chainId as never },
      {
        workflow_id: record.workflowId,
        status: record.status,
        started_at: new Date(record.startedAt),
        finished_at: record.finishedAt ? new Date(record.finishedAt) : null,
        runs: record.runs,
        totals: record.totals,
        failures: record.failures,
        failures_truncated: record.failuresTruncated,
        updated_at: deps.clock(),
      },
      { upsert: true },
    );
    if (!result.acknowledged) throw storeFailure(`the sync_runs record of ${record.chainId}`);
  }

  /** Removes staged pages left by runs that died before recording their outcome; returns how many. */
  async function sweepStaging(): Promise<number> {
    const cutoff = new Date(deps.clock().getTime() - STAGING_MAX_AGE_MS);
    const { deletedCount } = await c.staging.deleteMany({ created_at: { $lt: cutoff } });
    return deletedCount;
  }

  return { listConnectionsPage, recordSyncRun, sweepStaging };
}
