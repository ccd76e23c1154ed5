import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { ENTITY_TYPES, type EntityType } from '../domain/entity-types.ts';
import type { ReconcileCounts } from '../domain/reconcile-plan.ts';
import { refreshReason } from '../domain/catalog-event.ts';
import { failedTypeMessage, FailureType, isTransient, toSyncError } from '../shared/failures.ts';
import { AWS_ACCOUNT_ID, CONNECTION_ID, SYNC_OUTCOME, TEAM_ID } from '../shared/search-attributes.ts';
import type {
  ConnectionReport,
  ListEntitiesResult,
  RefreshRequest,
  RunRef,
  SyncConnectionInput,
  SyncConnectionProgress,
  SyncError,
  SyncSummary,
} from '../shared/types.ts';
import {
  assumeRoleOptions,
  LISTING_CALL_MS,
  listingFastPath,
  listingPages,
  reconcileOptions,
  storeOptions,
} from './activity-options.ts';
import { connectionSyncedSignal, refreshSignal, reportToSignal } from './signals.ts';
import { whenVersioned } from './versioning.ts';

type Activities = ReturnType<typeof createActivities>;

const assumer = proxyLocalActivities<Activities>(assumeRoleOptions);
const store = proxyLocalActivities<Activities>(storeOptions);
const fastPath = proxyLocalActivities<Activities>(listingFastPath);
const morePages = proxyActivities<Activities>(listingPages);
const reconciler = proxyLocalActivities<Activities>(reconcileOptions);

/** Pages each type may fetch inside the workflow task before handing over to a heartbeating activity. */
const FAST_PATH_PAGES = 2;

export const progressQuery = defineQuery<SyncConnectionProgress>('progress');

/** An extra run asked for by events waits until they stop for this long, so a burst of events makes one run. */
const REFRESH_QUIET_MS = 2_000;
/** ...but never longer than this: a steady stream of events still gets synced. */
const REFRESH_SETTLE_MAX_MS = 30_000;

/** A failure the sync already recorded on connections.sync (reconcile wrote the partial outcome). */
class RecordedFailure extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

export async function syncConnection({
  connectionId,
  trigger,
  reportTo: inheritedReportTo,
}: SyncConnectionInput): Promise<SyncSummary> {
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
  setHandler(progressQuery, () => progress);
  // A SyncAll that continues as new while this runs asks for the outcome by signal instead of by result.
  let reportTo: string | null = inheritedReportTo ?? null;
  setHandler(reportToSignal, (chainWorkflowId) => {
    reportTo = chainWorkflowId;
  });
  // A refresh that arrives before listing begins is covered by this run; one that arrives later may describe a
  // change this run's listing missed, so the run syncs once more when it ends.
  let listingStarted = false;
  let rerun: RefreshRequest | null = null;
  let refreshHeard = false;
  setHandler(refreshSignal, (request) => {
    refreshHeard = true;
    if (listingStarted) rerun ??= request;
  });
  // Read through a function: the handler sets it between awaits, where a plain read would be narrowed to null.
  const pendingRefresh = (): RefreshRequest | null => rerun;
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
  let again: RefreshRequest | null = null;
  // Each upsert is a history event and a visibility write, so the outcome and the ids found on the way go in one.
  const finish = async (outcome: 'succeeded' | 'failed', details: string, report: ConnectionReport) => {
    upsertSearchAttributes([
      { key: SYNC_OUTCOME, value: outcome },
      ...(teamId ? [{ key: TEAM_ID, value: teamId }] : []),
      ...(progress.accountId ? [{ key: AWS_ACCOUNT_ID, value: progress.accountId }] : []),
    ]);
    setCurrentDetails(details);
    // A run followed by an extra one leaves the report to it: a chain counts each connection once.
    if (!reportTo || (outcome === 'succeeded' && again)) return;
    try {
      await getExternalWorkflowHandle(reportTo).signal(connectionSyncedSignal, report);
    } catch (err) {
      log.warn('Could not report the outcome to the SyncAll chain', { connectionId, chain: reportTo, error: err });
    }
  };

  try {
    if (trigger?.afterRun) {
      // Continue-as-new copied the last run's outcome; this run has none yet.
      upsertSearchAttributes([{ key: SYNC_OUTCOME, value: null }]);
      await settle(
        () => refreshHeard,
        () => (refreshHeard = false),
      );
    }
    progress.phase = 'assuming-role';
    const role = await step(FailureType.StsUnavailable, () =>
      assumer.assumeRole.executeWithOptions(
        { ...assumeRoleOptions, summary: `Assume the seller's role for connection ${connectionId}` },
        [ref],
      ),
    );
    progress.accountId = role.accountId;
    teamId = role.teamId;
    setCurrentDetails(
      `Connection **${connectionId}**, AWS account ${role.accountId}, team ${role.teamId}: listing products`,
    );

    progress.phase = 'listing';
    listingStarted = true;
    for (const entityType of ENTITY_TYPES) progress.types[entityType] = { status: 'listing', pages: 0, products: 0 };
    const firstPages = await listFirstPages(connectionId, runId, role.accountId);
    const lists = await Promise.all(
      ENTITY_TYPES.map(async (entityType, i) => {
        const result = await listType(ref, entityType, role.accountId, firstPages?.[i]);
        progress.types[entityType] =
          result.status === 'complete'
            ? { status: 'complete', pages: result.pages, products: result.products }
            : { status: result.status === 'skipped' ? 'skipped' : 'failed', pages: 0, products: 0 };
        return result;
      }),
    );
    // Nothing listed and something failed: the cause is the connection's (e.g. the role may not list), not a type's.
    const firstFailed = lists.find((l) => l.status === 'failed');
    if (firstFailed?.status === 'failed' && !lists.some((l) => l.status === 'complete')) {
      throw ApplicationFailure.create({ ...firstFailed.error, nonRetryable: true });
    }

    progress.phase = 'reconciling';
    const total = lists.reduce((n, l) => n + (l.status === 'complete' ? l.products : 0), 0);
    const summary = await step(FailureType.StoreUnavailable, () =>
      reconciler.reconcile.executeWithOptions(
        { ...reconcileOptions, summary: `Reconcile ${total} products of account ${role.accountId}` },
        [{ ...ref, teamId: role.teamId, lists }],
      ),
    );
    progress.summary = summary;
    const [failedType] = summary.failed_types;
    if (failedType) {
      // The other types are reconciled and the outcome is on connections.sync; the run still ends failed.
      const error = { type: failedType.type, message: failedTypeMessage(failedType) };
      progress.phase = 'failed';
      progress.error = error;
      await finish('failed', describeSummary(connectionId, role.accountId, summary, error), {
        connectionId,
        outcome: 'failed',
        failure: { connection_id: connectionId, ...error },
        counts: countsOf(summary),
      });
      throw new RecordedFailure(
        ApplicationFailure.create({ ...error, nonRetryable: true, details: [countsOf(summary)] }),
      );
    }

    progress.phase = 'succeeded';
    const result: SyncSummary = trigger ? { ...summary, trigger: trigger.reason } : summary;
    // A run an event started tends to hear more of them. A timer puts the local activities' results in a workflow
    // task of their own, so a refresh that arrived meanwhile leads to one extra run, not to the server refusing
    // this run's completion and a replay that repeats every AWS call. Scheduled runs skip it: it costs a round trip.
    // Not cancellable: the sync has succeeded, and a cancel now must not record it as cancelled.
    if (trigger) await CancellationScope.nonCancellable(() => sleep(1));
    // Decided before the report, so a SyncAll chain hears of this connection once: from the extra run if there is one.
    again = pendingRefresh();
    await finish('succeeded', describeSummary(connectionId, role.accountId, result, null), {
      connectionId,
      outcome: 'succeeded',
      counts: countsOf(summary),
    });
    // A refresh can still land while the report is sent; it gets its run too, which then reports to nobody.
    const next = again ?? pendingRefresh();
    if (next) {
      log.info('A refresh arrived while this run was listing; syncing once more', {
        connectionId,
        eventId: next.eventId,
        detailType: next.detailType,
      });
      await continueAsNew<typeof syncConnection>({
        connectionId,
        trigger: { reason: refreshReason(next.detailType), eventId: next.eventId, afterRun: true },
        reportTo: again ? reportTo : null,
      });
    }
    return result;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (err instanceof RecordedFailure) throw err.failure;
    const error = describeFailure(err, 'Error');
    progress.phase = 'failed';
    progress.error = error;
    // Record the failure even when an operator cancelled the run: the app shows connections.sync.
    await CancellationScope.nonCancellable(async () => {
      await store.recordSyncFailure({ ...ref, error });
      await finish('failed', `Connection **${connectionId}** failed: **${error.type}**: ${error.message}`, {
        connectionId,
        outcome: 'failed',
        failure: { connection_id: connectionId, ...error },
        counts: null,
      });
    });
    if (isCancellation(err)) throw err;
    // Raised under the cause's name so the UI and a parent SyncAll show the cause, not "activity failed".
    if (err instanceof ApplicationFailure && err.type === error.type && err.message === error.message) throw err;
    throw ApplicationFailure.create({ ...error, nonRetryable: true, cause: err as Error });
  }
}

// A sync finishes on the build it started on, and so does a refresh's extra run (continue-as-new keeps the version).
setWorkflowOptions(whenVersioned('PINNED'), syncConnection);

/** Waits until no refresh has arrived for REFRESH_QUIET_MS (at most REFRESH_SETTLE_MAX_MS). */
async function settle(heard: () => boolean, reset: () => void): Promise<void> {
  const deadline = Date.now() + REFRESH_SETTLE_MAX_MS;
  for (;;) {
    reset();
    const left = deadline - Date.now();
    if (left <= 0 || !(await condition(heard, Math.min(REFRESH_QUIET_MS, left)))) return;
  }
}

/**
 * Every type's first pages in one local activity. Most sellers have fewer than 100 products per type, so
 * this is usually the whole listing; undefined sends every type down the patient path.
 */
export async function listFirstPages(
  connectionId: string,
  runId: string,
  accountId: string,
): Promise<ListEntitiesResult[] | undefined> {
  try {
    return await fastPath.listFirstPages.executeWithOptions(
      { ...listingFastPath, summary: `List ${ENTITY_TYPES.join(', ')} for ${accountId}` },
      [{ connectionId, runId, entityTypes: [...ENTITY_TYPES], maxPages: FAST_PATH_PAGES }],
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.info('Fast path failed; listing every type on the patient path', { connectionId, error: err });
    return undefined;
  }
}

/**
 * The rest of a type's pages (or all of them after a fast-path interruption), a heartbeating activity per
 * minute of listing. A failure after the retry budget fails this type only.
 */
export async function listType(
  ref: RunRef,
  entityType: EntityType,
  accountId: string,
  fast: ListEntitiesResult | undefined,
): Promise<ListEntitiesResult> {
  let result = fast;
  const invalid: string[] = [];
  let invalidCount = 0;
  try {
    while (!result || result.status === 'partial' || result.status === 'interrupted') {
      const resume = result?.status === 'partial' ? result.cursor : undefined;
      if (result?.status === 'partial') {
        invalid.push(...result.invalid);
        invalidCount += result.invalidCount;
      }
      result = await morePages.listEntities.executeWithOptions(
        {
          ...listingPages,
          summary: resume
            ? `List ${entityType} for ${accountId} from page ${resume.pages + 1}`
            : `List ${entityType} for ${accountId}`,
        },
        [{ connectionId: ref.connectionId, runId: ref.runId, entityType, resume, returnAfterMs: LISTING_CALL_MS }],
      );
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { entityType, status: 'failed', error: describeFailure(err, FailureType.CatalogUnavailable) };
  }
  if (result.status !== 'complete' || invalidCount === 0) return result;
  return { ...result, invalid: [...invalid, ...result.invalid], invalidCount: invalidCount + result.invalidCount };
}

/** Runs a step, turning whatever ends it into a failure named for the step's cause. */
export async function step<T>(fallbackType: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = describeFailure(err, fallbackType);
    throw ApplicationFailure.create({ ...error, nonRetryable: true, cause: err as Error });
  }
}

/**
 * What ended the sync, as the person reading connections.sync or the UI needs it: a named type and a final
 * message. A local activity's failure arrives bare, a regular one wrapped in ActivityFailure, and a retry
 * budget that ran out as a TimeoutFailure whose cause (when there is one) is the last attempt's failure.
 */
export function describeFailure(err: unknown, fallbackType: string): SyncError {
  if (isCancellation(err)) return { type: FailureType.Cancelled, message: 'The sync was cancelled by an operator' };
  let cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) cause = cause.cause ?? cause;
  if (cause instanceof ApplicationFailure && cause.type) return finalMessage(toSyncError(cause));
  if (cause instanceof TimeoutFailure) {
    return finalMessage({ type: fallbackType, message: `The step did not finish in time (${cause.timeoutType})` });
  }
  const message = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return finalMessage({ type: fallbackType, message });
}

/** A transient cause that ended the sync reads as final, so nobody waits for a retry that will not come. */
function finalMessage(error: SyncError): SyncError {
  if (!isTransient(error.type)) return error;
  return {
    type: error.type,
    message: `${error.message.replace(/\.$/, '')}. Retried with backoff until the step's time budget ran out; the sync gave up (the next scheduled sync tries again).`,
  };
}

function countsOf(s: SyncSummary): ReconcileCounts {
  return {
    total_aws: s.total_aws,
    matched: s.matched,
    updated: s.updated,
    auto_linked: s.auto_linked,
    imported: s.imported,
  };
}

function describeSummary(connectionId: string, accountId: string, s: SyncSummary, error: SyncError | null): string {
  const lines = [
    `Connection **${connectionId}**, AWS account ${accountId}: ${error ? `failed: **${error.type}**` : 'synced'}${s.trigger ? ` (${s.trigger})` : ''}`,
    '',
    `| total_aws | matched | updated | auto_linked | imported |`,
    `| --- | --- | --- | --- | --- |`,
    `| ${s.total_aws} | ${s.matched} | ${s.updated} | ${s.auto_linked} | ${s.imported} |`,
  ];
  for (const t of s.failed_types) lines.push('', `Failed ${t.entity_type}: **${t.type}**: ${t.message}`);
  for (const t of s.skipped_types) lines.push('', `Skipped ${t.entity_type}: ${t.reason}`);
  if (s.invalid > 0) lines.push('', `${s.invalid} AWS summaries could not be used: ${s.invalid_products.join('; ')}`);
  if (s.ambiguous.length > 0)
    lines.push('', `Ambiguous titles left to a person: ${s.ambiguous.map((a) => a.title).join(', ')}`);
  return lines.join('\n');
}
