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
  patched,
  proxyLocalActivities,
  setHandler,
  setWorkflowOptions,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createSyncAllActivities } from '../activities/sync-all.ts';
import type { ReconcileCounts } from '../domain/reconcile-plan.ts';
import { FailureType, toSyncError } from '../shared/failures.ts';
import { CONNECTION_ID } from '../shared/search-attributes.ts';
import { SYNC_ALL_DEFAULTS } from '../shared/sync-all-defaults.ts';
import { syncAllInputProblems } from '../shared/workflow-inputs.ts';
import type {
  ConnectionCursor,
  ConnectionFailure,
  ConnectionReport,
  SyncAllInput,
  SyncAllProgress,
  SyncAllResult,
  SyncAllTotals,
  SyncRunRecord,
} from '../shared/types.ts';
import { syncConnectionWorkflowId } from '../shared/workflow-ids.ts';
import { storeOptions } from './activity-options.ts';
import { Patch } from './patches.ts';
import { connectionSyncedSignal, reportToSignal } from './signals.ts';
import { syncConnection } from './sync-connection.ts';
import { rejectInvalidInput } from './valid-input.ts';
import { whenVersioned } from './versioning.ts';

const store = proxyLocalActivities<ReturnType<typeof createSyncAllActivities>>(storeOptions);

const MAX_FAILURES_KEPT = 100;
/** Each run stays well under Temporal's 10,240-event warning; a child costs up to ~6 parent events. */
const HISTORY_BUDGET = 9_000;
const EVENTS_PER_CHILD = 6;
/** How long a run waits for its last children before handing the rest over; a straggler holds up no more. */
const HAND_OVER_GRACE = '5 seconds';
/** Far longer than any sync takes (each of its steps has a retry budget of minutes); tests pass a shorter one. */
const REPORT_DEADLINE = '1 hour';

export const syncAllProgressQuery = defineQuery<SyncAllProgress>('progress');

/**
 * Syncs every AWS connection, a page of connections per run: children run in a sliding window, and the
 * run continues as new with the cursor and running totals before its history grows large. The window
 * never drains at a continue-as-new: children still running are handed over to the chain and report
 * their outcome by signal, so one slow connection never holds up the ones behind it.
 */
export async function syncAll(input: SyncAllInput = {}): Promise<SyncAllResult> {
  rejectInvalidInput('syncAll', syncAllInputProblems(input));
  const info = workflowInfo();
  const chainId = `${info.workflowId}/${info.firstExecutionRunId}`;
  const startedAt = input.chainStartedAt ?? new Date().toISOString();
  const concurrency = input.concurrency ?? SYNC_ALL_DEFAULTS.concurrency;
  const batchSize = input.batchSize ?? SYNC_ALL_DEFAULTS.batchSize;
  const reportDeadline = input.reportDeadline ?? REPORT_DEADLINE;
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
  /** Children of earlier runs (or of this one, once handed over) whose outcome arrives by signal. */
  const awaitingReports = new Set(input.awaitingReports ?? []);

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

  const addCounts = (counts: ReconcileCounts) => {
    totals.total_aws += counts.total_aws;
    totals.matched += counts.matched;
    totals.updated += counts.updated;
    totals.auto_linked += counts.auto_linked;
    totals.imported += counts.imported;
  };
  const addFailure = (failure: ConnectionFailure, counts: ReconcileCounts | null) => {
    totals.connections.failed += 1;
    // A connection that failed on one entity type still reconciled the others.
    if (counts) addCounts(counts);
    if (failures.length < MAX_FAILURES_KEPT) failures.push(failure);
    else failuresTruncated = true;
  };

  // Registered before the first await, so a query or a report never finds the run without its handler.
  const progress: SyncAllProgress = {
    chainId,
    run,
    batchSize: 0,
    started: 0,
    running: 0,
    handedOver: awaitingReports.size,
    remainingInBatch: 0,
    totals,
  };
  setHandler(syncAllProgressQuery, () => progress);
  setHandler(connectionSyncedSignal, (report: ConnectionReport) => {
    // Only a handed-over child reports, once; a duplicate delivery finds it gone from the set.
    if (!awaitingReports.delete(report.connectionId)) return;
    progress.handedOver = awaitingReports.size;
    if (report.outcome === 'succeeded') {
      totals.connections.succeeded += 1;
      addCounts(report.counts);
    } else {
      addFailure(report.failure, report.counts);
    }
  });

  if (run === 1) {
    await store.recordSyncRun(record('running', false));
    await store.sweepStaging();
  }

  const page = await store.listConnectionsPage.executeWithOptions(
    { ...storeOptions, summary: `Read up to ${batchSize} connections` },
    [{ cursor: input.cursor ?? null, limit: batchSize }],
  );

  progress.batchSize = page.entries.length;
  progress.remainingInBatch = page.entries.length;

  const children = new Map<string, ChildWorkflowHandle<typeof syncConnection>>();
  /** Children of this run handed over to the chain: their report counts, not their result here. */
  const handedOverChildren = new Set<string>();
  /**
   * Results that arrived while their child was being handed over. When the hand-over signal then fails
   * (the child had finished), the result is all there will be, so it counts after all.
   */
  const heldResults = new Map<string, () => void>();
  const countOutcome = (connectionId: string, count: () => void) => {
    if (handedOverChildren.has(connectionId)) heldResults.set(connectionId, count);
    else count();
  };

  // Before the cancel fix, a cancel with children running failed every workflow task with an unhandled rejection.
  const cancelCleanly = patched(Patch.SyncAllCancelCleanly);
  let starting = 0;
  const runChild = async (connectionId: string): Promise<void> => {
    try {
      // A slot that freed in the same workflow task as a cancel starts nothing: the chain is ending.
      if (cancelCleanly && CancellationScope.current().consideredCancelled) return;
      starting += 1;
      const child = await startChild(syncConnection, {
        workflowId: syncConnectionWorkflowId(connectionId),
        args: [{ connectionId }],
        // Cancelling SyncAll stops new starts; a sync already running finishes on its own.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [{ key: CONNECTION_ID, value: connectionId }],
        staticSummary: `Sync AWS Marketplace listings of connection ${connectionId}`,
      }).finally(() => (starting -= 1));
      children.set(connectionId, child);
      const summary = await child.result();
      countOutcome(connectionId, () => {
        totals.connections.succeeded += 1;
        addCounts(summary);
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Its on-connect (or manual) sync is running now and will bring it up to date.
        totals.connections.skipped += 1;
        return;
      }
      // The chain was cancelled: the child is left to finish on its own (ABANDON) and counts in no total; the
      // chain's own cancellation ends the run, so this promise must not reject where nobody awaits it.
      if (isCancellation(err)) {
        if (cancelCleanly) return;
        throw err;
      }
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      const details = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
      const failure: ConnectionFailure = { connection_id: connectionId, ...toSyncError(cause) };
      countOutcome(connectionId, () => addFailure(failure, isCounts(details) ? details : null));
    } finally {
      children.delete(connectionId);
      progress.running -= 1;
    }
  };

  /**
   * Asks every child still running after a short grace to report to the chain instead. Most children
   * finish within the grace, and a signal is not free for a child in the middle of its one workflow task:
   * the server refuses that task's completion and the child runs its local activities again. A child that
   * finished meanwhile cannot take the signal; its result arrives here, so this run waits for it.
   */
  const handOver = async () => {
    await condition(() => starting === 0);
    await condition(() => children.size === 0, HAND_OVER_GRACE);
    await Promise.all(
      [...children].map(async ([connectionId, child]) => {
        handedOverChildren.add(connectionId);
        awaitingReports.add(connectionId);
        try {
          await child.signal(reportToSignal, info.workflowId);
        } catch {
          handedOverChildren.delete(connectionId);
          awaitingReports.delete(connectionId);
          heldResults.get(connectionId)?.();
        }
      }),
    );
    progress.handedOver = awaitingReports.size;
    await condition(() => [...children.keys()].every((id) => handedOverChildren.has(id)));
  };

  let resumeFrom: ConnectionCursor | null = page.next;
  const running: Array<Promise<void>> = [];
  try {
    for (const [index, entry] of page.entries.entries()) {
      await condition(() => progress.running + awaitingReports.size < concurrency);
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
    if (resumeFrom) {
      await handOver();
    } else {
      await Promise.all(running);
      // A child that never reports (terminated by hand) must not keep the chain open for ever.
      if (!(await condition(() => awaitingReports.size === 0, reportDeadline))) {
        for (const connectionId of awaitingReports) {
          addFailure(
            {
              connection_id: connectionId,
              type: FailureType.OutcomeUnknown,
              message: `The sync did not report its outcome within ${reportDeadline} (terminated by hand?); see its run in the UI`,
            },
            null,
          );
        }
        awaitingReports.clear();
      }
    }
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => store.recordSyncRun(record('cancelled', true)));
    }
    throw err;
  }

  if (resumeFrom) {
    await store.recordSyncRun(record('running', false));
    await continueAsNew<typeof syncAll>({
      chainStartedAt: startedAt,
      cursor: resumeFrom,
      totals,
      failures,
      runsInChain: run,
      concurrency,
      batchSize,
      awaitingReports: [...awaitingReports],
      ...(input.reportDeadline ? { reportDeadline: input.reportDeadline } : {}),
    });
  }

  await store.recordSyncRun(record('succeeded', true));
  return { chainId, runs: run, totals, failures, failures_truncated: failuresTruncated };
}

// A chain lives for hours: pinned, it would keep starting children on a build that is being retired. Every change
// to its commands goes behind patched() instead (patches.ts).
setWorkflowOptions(whenVersioned('AUTO_UPGRADE'), syncAll);

function isCounts(value: unknown): value is ReconcileCounts {
  const v = value as Partial<ReconcileCounts> | null;
  return typeof v?.total_aws === 'number' && typeof v.imported === 'number';
}
