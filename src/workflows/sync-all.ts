import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  isCancellation,
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createActivities } from '../activities/index.ts';
import { CONNECTION_ID } from '../shared/search-attributes.ts';
import type {
  ConnectionCursor,
  ConnectionFailure,
  SyncAllInput,
  SyncAllProgress,
  SyncAllResult,
  SyncAllTotals,
  SyncRunRecord,
} from '../shared/types.ts';
import { syncConnectionWorkflowId } from '../shared/workflow-ids.ts';
import { localQuick } from './activity-options.ts';
import { syncConnection } from './sync-connection.ts';

const quick = proxyLocalActivities<ReturnType<typeof createActivities>>(localQuick);

export const DEFAULT_CONCURRENCY = 50;
export const DEFAULT_BATCH_SIZE = 1_000;
const MAX_FAILURES_KEPT = 100;
/** Each run stays well under Temporal's 10,240-event warning; a child costs up to ~6 parent events. */
const HISTORY_BUDGET = 9_000;
const EVENTS_PER_CHILD = 6;

export const syncAllProgressQuery = defineQuery<SyncAllProgress>('progress');

/**
 * Syncs every AWS connection, a page of connections per run: children run in a sliding window, and the
 * run continues as new with the cursor and running totals before its history grows large.
 */
export async function syncAll(input: SyncAllInput = {}): Promise<SyncAllResult> {
  const info = workflowInfo();
  const chainId = `${info.workflowId}/${info.firstExecutionRunId}`;
  const startedAt = input.chainStartedAt ?? new Date().toISOString();
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const run = (input.runsInChain ?? 0) + 1;
  const totals: SyncAllTotals = input.totals ?? {
    connections: { succeeded: 0, failed: 0, skipped: 0 },
    total_aws: 0,
    matched: 0,
    updated: 0,
    auto_linked: 0,
    imported: 0,
  };
  const failures: ConnectionFailure[] = input.failures ?? [];
  let failuresTruncated = false;

  const record = (status: SyncRunRecord['status'], finished: boolean): SyncRunRecord => ({
    chainId,
    workflowId: info.workflowId,
    status,
    startedAt,
    finishedAt: finished ? new Date().toISOString() : null,
    runs: run,
    totals,
    failures,
    failuresTruncated,
  });

  // Registered before the first await, so a query never finds the run without its handler.
  const progress: SyncAllProgress = { chainId, run, batchSize: 0, started: 0, running: 0, remainingInBatch: 0, totals };
  setHandler(syncAllProgressQuery, () => progress);

  if (run === 1) await quick.recordSyncRun(record('running', false));

  const page = await quick.listConnectionsPage.executeWithOptions(
    { ...localQuick, summary: `Read up to ${batchSize} connections` },
    [{ cursor: input.cursor ?? null, limit: batchSize }],
  );

  progress.batchSize = page.entries.length;
  progress.remainingInBatch = page.entries.length;

  const runChild = async (connectionId: string): Promise<void> => {
    try {
      const child = await startChild(syncConnection, {
        workflowId: syncConnectionWorkflowId(connectionId),
        args: [{ connectionId }],
        // Cancelling SyncAll stops new starts; a sync already running finishes on its own.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [{ key: CONNECTION_ID, value: connectionId }],
        staticSummary: `Sync AWS Marketplace listings of connection ${connectionId}`,
      });
      const summary = await child.result();
      totals.connections.succeeded += 1;
      totals.total_aws += summary.total_aws;
      totals.matched += summary.matched;
      totals.updated += summary.updated;
      totals.auto_linked += summary.auto_linked;
      totals.imported += summary.imported;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Its on-connect (or manual) sync is running now and will bring it up to date.
        totals.connections.skipped += 1;
        return;
      }
      if (isCancellation(err)) throw err;
      totals.connections.failed += 1;
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      const failure: ConnectionFailure = {
        connection_id: connectionId,
        type: cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : ((cause as Error)?.name ?? 'Error'),
        message: (cause as Error)?.message ?? String(cause),
      };
      if (failures.length < MAX_FAILURES_KEPT) failures.push(failure);
      else failuresTruncated = true;
    } finally {
      progress.running -= 1;
    }
  };

  let resumeFrom: ConnectionCursor | null = page.next;
  try {
    const running: Array<Promise<void>> = [];
    for (const [index, entry] of page.entries.entries()) {
      await condition(() => progress.running < concurrency);
      const { historyLength, continueAsNewSuggested } = workflowInfo();
      if (continueAsNewSuggested || historyLength + (progress.running + 1) * EVENTS_PER_CHILD > HISTORY_BUDGET) {
        // Hand the rest of this page to the next run rather than grow this history.
        resumeFrom = index > 0 ? (page.entries[index - 1] ?? null) : (input.cursor ?? null);
        break;
      }
      progress.running += 1;
      progress.started += 1;
      progress.remainingInBatch -= 1;
      running.push(runChild(entry.value));
    }
    await Promise.all(running);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => quick.recordSyncRun(record('cancelled', true)));
    }
    throw err;
  }

  if (resumeFrom) {
    await quick.recordSyncRun(record('running', false));
    await continueAsNew<typeof syncAll>({
      chainStartedAt: startedAt,
      cursor: resumeFrom,
      totals,
      failures,
      runsInChain: run,
      concurrency,
      batchSize,
    });
  }

  await quick.recordSyncRun(record('succeeded', true));
  return { chainId, runs: run, totals, failures, failures_truncated: failuresTruncated };
}
