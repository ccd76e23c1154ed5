import {
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { refreshReason } from '../domain/catalog-event.ts';
import { ENTITY_TYPES } from '../domain/entity-types.ts';
import { failedTypeMessage, FailureType } from '../shared/failures.ts';
import { AWS_ACCOUNT_ID, CONNECTION_ID, SYNC_OUTCOME, TEAM_ID } from '../shared/search-attributes.ts';
import { syncConnectionInputProblems } from '../shared/workflow-inputs.ts';
import type {
  ConnectionReport,
  FailedType,
  RefreshRequest,
  RunRef,
  SyncConnectionInput,
  SyncConnectionProgress,
  SyncSummary,
} from '../shared/types.ts';
import { reconcileOptions, storeOptions } from './activity-options.ts';
import { ChainReport } from './chain-report.ts';
import { assumeRole, listAllTypes } from './discover.ts';
import { Refreshes } from './refresh.ts';
import { Patch } from './patches.ts';
import { countsOf, describeSummary } from './run-details.ts';
import { describeFailure, endingFailure, step } from './step-failure.ts';
import { rejectInvalidInput } from './valid-input.ts';
import { whenVersioned } from './versioning.ts';

const store = proxyLocalActivities<Activities>(storeOptions);
const reconciler = proxyLocalActivities<Activities>(reconcileOptions);

export const progressQuery = defineQuery<SyncConnectionProgress>('progress');

/**
 * One connection's sync: (an extra run first lets a burst of refreshes settle) → discover (assume the seller's
 * role, list every entity type) → reconcile into MongoDB → report the outcome → run once more if a refresh arrived
 * while listing. A failure is recorded on connections.sync and named for its cause.
 */
export async function syncConnection(input: SyncConnectionInput): Promise<SyncSummary> {
  rejectInvalidInput('syncConnection', syncConnectionInputProblems(input));
  const { connectionId, trigger, reportTo } = input;
  const { workflowId, runId } = workflowInfo();
  const ref: RunRef = { connectionId, workflowId, runId };
  const progress: SyncConnectionProgress = {
    connectionId,
    phase: 'starting',
    accountId: null,
    types: {},
    summary: null,
    error: null,
  };
  // Handlers first, before any await, so no query or signal finds the run without them.
  setHandler(progressQuery, () => progress);
  const chain = new ChainReport(reportTo);
  const refreshes = new Refreshes();
  // The client and SyncAll set ConnectionId at start; a run started by hand (temporal workflow start) gets it here.
  if (workflowInfo().typedSearchAttributes.get(CONNECTION_ID) === undefined) {
    upsertSearchAttributes([{ key: CONNECTION_ID, value: connectionId }]);
  }
  setCurrentDetails(
    trigger
      ? `${trigger.reason}: syncing AWS Marketplace listings of connection **${connectionId}**`
      : `Syncing AWS Marketplace listings of connection **${connectionId}**`,
  );
  let teamId: string | null = null;
  // Each upsert is a history event and a visibility write, so the outcome and the ids found on the way go in one.
  const finish = async (details: string, report: ConnectionReport, extraRunFollows = false) => {
    upsertSearchAttributes([
      { key: SYNC_OUTCOME, value: report.outcome },
      ...(teamId ? [{ key: TEAM_ID, value: teamId }] : []),
      ...(progress.accountId ? [{ key: AWS_ACCOUNT_ID, value: progress.accountId }] : []),
    ]);
    setCurrentDetails(details);
    await chain.send(report, extraRunFollows);
  };

  let accountId: string;
  let summary: SyncSummary;
  let failedType: FailedType | undefined;
  try {
    if (trigger?.afterRun) {
      // Continue-as-new copied the last run's outcome; this run has none yet.
      upsertSearchAttributes([{ key: SYNC_OUTCOME, value: null }]);
      await refreshes.settle();
    }

    progress.phase = 'assuming-role';
    const role = await assumeRole(ref);
    accountId = progress.accountId = role.accountId;
    teamId = role.teamId;
    setCurrentDetails(`Connection **${connectionId}**, AWS account ${accountId}, team ${teamId}: listing products`);

    progress.phase = 'listing';
    refreshes.listingStarted();
    for (const entityType of ENTITY_TYPES) progress.types[entityType] = { status: 'listing', pages: 0, products: 0 };
    const lists = await listAllTypes(ref, accountId, (result) => {
      progress.types[result.entityType] =
        result.status === 'complete'
          ? { status: 'complete', pages: result.pages, products: result.products }
          : { status: result.status === 'skipped' ? 'skipped' : 'failed', pages: 0, products: 0 };
    });
    // Nothing listed and something failed: the cause is the connection's (e.g. the role may not list), not a type's.
    const firstFailed = lists.find((l) => l.status === 'failed');
    if (firstFailed?.status === 'failed' && !lists.some((l) => l.status === 'complete')) {
      throw ApplicationFailure.create({ ...firstFailed.error, nonRetryable: true });
    }

    progress.phase = 'reconciling';
    const total = lists.reduce((n, l) => n + (l.status === 'complete' ? l.products : 0), 0);
    summary = await step(FailureType.StoreUnavailable, () =>
      reconciler.reconcile.executeWithOptions(
        { ...reconcileOptions, summary: `Reconcile ${total} products of account ${accountId}` },
        [{ ...ref, teamId: role.teamId, lists }],
      ),
    );
    progress.summary = summary;
    [failedType] = summary.failed_types;
  } catch (err) {
    const error = describeFailure(err, 'Error');
    progress.phase = 'failed';
    progress.error = error;
    const extra = isCancellation(err) ? null : extraRunAfterFailure();
    // Record the failure even when an operator cancelled the run: the app shows connections.sync.
    await CancellationScope.nonCancellable(async () => {
      await store.recordSyncFailure({ ...ref, error });
      await finish(
        `Connection **${connectionId}** failed: **${error.type}**: ${error.message}`,
        { connectionId, outcome: 'failed', failure: { connection_id: connectionId, ...error }, counts: null },
        extra !== null,
      );
    });
    if (isCancellation(err)) throw err;
    if (extra) await runOnceMore(extra);
    // Raised under the cause's name so the UI and a parent SyncAll show the cause, not "activity failed".
    throw endingFailure(err, error);
  }

  if (failedType) {
    // The other types are reconciled and the outcome is on connections.sync (the reconcile wrote it); the run
    // still ends failed, named for the type.
    const error = { type: failedType.type, message: failedTypeMessage(failedType) };
    progress.phase = 'failed';
    progress.error = error;
    const extra = extraRunAfterFailure();
    await finish(
      describeSummary(connectionId, accountId, summary, error),
      {
        connectionId,
        outcome: 'failed',
        failure: { connection_id: connectionId, ...error },
        counts: countsOf(summary),
      },
      extra !== null,
    );
    if (extra) await runOnceMore(extra);
    throw ApplicationFailure.create({ ...error, nonRetryable: true, details: [countsOf(summary)] });
  }

  progress.phase = 'succeeded';
  const result: SyncSummary = trigger ? { ...summary, trigger: trigger.reason } : summary;
  // A run an event started tends to hear more of them. A timer puts the local activities' results in a workflow
  // task of their own, so a refresh that arrived meanwhile leads to one extra run, not to the server refusing
  // this run's completion and a replay that repeats every AWS call. Scheduled runs skip it: it costs a round trip.
  // Not cancellable: the sync has succeeded, and a cancel now must not record it as cancelled.
  if (trigger) await CancellationScope.nonCancellable(() => sleep(1));
  // Decided before the report, so a SyncAll chain hears of this connection once: from the extra run if there is one.
  const extra = refreshes.extraRun();
  await finish(
    describeSummary(connectionId, accountId, result, null),
    { connectionId, outcome: 'succeeded', counts: countsOf(summary) },
    extra !== null,
  );
  // A refresh can still land while the report is sent; it gets its run too, which then reports to nobody.
  const next = extra ?? refreshes.extraRun();
  if (next) await runOnceMore(next, extra ? chain.passedOn() : null);
  return result;

  /**
   * The extra run a refresh asked for, when this run failed: the failure may be what the seller has just fixed
   * (the app's connect is a refresh too). Old builds dropped it (patches.ts).
   */
  function extraRunAfterFailure(): RefreshRequest | null {
    const extra = refreshes.extraRun();
    return extra && patched(Patch.ExtraRunAfterFailure) ? extra : null;
  }

  /** Continues as new for the extra run a refresh asked for; it reports to the chain in this run's place. */
  async function runOnceMore(next: RefreshRequest, reportTo = chain.passedOn()): Promise<never> {
    log.info('A refresh arrived while this run was listing; syncing once more', {
      connectionId,
      eventId: next.eventId,
      detailType: next.detailType,
    });
    return continueAsNew<typeof syncConnection>({
      connectionId,
      trigger: { reason: refreshReason(next.detailType), eventId: next.eventId, afterRun: true },
      reportTo,
    });
  }
}

// A sync finishes on the build it started on, and so does a refresh's extra run (continue-as-new keeps the version).
setWorkflowOptions(whenVersioned('PINNED'), syncConnection);
