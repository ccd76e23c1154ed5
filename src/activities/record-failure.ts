// The end of a sync that failed before its reconcile recorded an outcome: the failure on connections.sync, and
// nothing left behind (no role session in memory, no staged pages).
import { log } from '@temporalio/activity';
import type { RunRef, SyncError } from '../shared/types.ts';
import type { ConnectionRecords } from './connection-record.ts';
import type { ActivityContext } from './deps.ts';

export function createRecordSyncFailure({ deps, metrics, c }: ActivityContext, { setSync }: ConnectionRecords) {
  async function recordSyncFailure(input: RunRef & { error: SyncError }): Promise<void> {
    await setSync(input.connectionId, {
      status: 'failed',
      finished_at: deps.clock(),
      error: input.error,
      workflow_id: input.workflowId,
      run_id: input.runId,
    });
    // A failed run leaves nothing behind: no session in memory, no staged pages in MongoDB.
    deps.sessions.forget(input.connectionId);
    await c.staging.deleteMany({ run_id: input.runId });
    metrics.syncFinished('failed');
    log.warn('Sync failed', {
      connectionId: input.connectionId,
      errorType: input.error.type,
      errorMessage: input.error.message,
    });
  }

  return { recordSyncFailure };
}
