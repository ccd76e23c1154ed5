import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { ENTITY_TYPES, type EntityType } from '../domain/entity-types.ts';
import { FailureType } from '../shared/failures.ts';
import { AWS_ACCOUNT_ID, CONNECTION_ID, SYNC_OUTCOME, TEAM_ID } from '../shared/search-attributes.ts';
import type {
  ListEntitiesResult,
  RunRef,
  SyncConnectionInput,
  SyncConnectionProgress,
  SyncError,
  SyncSummary,
} from '../shared/types.ts';
import { listingFastPath, listingPages, localQuick, reconcileOptions } from './activity-options.ts';

type Activities = ReturnType<typeof createActivities>;

const quick = proxyLocalActivities<Activities>(localQuick);
const firstPages = proxyLocalActivities<Activities>(listingFastPath);
const morePages = proxyActivities<Activities>(listingPages);
const reconciler = proxyLocalActivities<Activities>(reconcileOptions);

/** Pages each type may fetch inside the workflow task before handing over to a heartbeating activity. */
const FAST_PATH_PAGES = 2;

export const progressQuery = defineQuery<SyncConnectionProgress>('progress');

export async function syncConnection({ connectionId }: SyncConnectionInput): Promise<SyncSummary> {
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
  upsertSearchAttributes([{ key: CONNECTION_ID, value: connectionId }]);

  try {
    progress.phase = 'assuming-role';
    const role = await quick.assumeRole.executeWithOptions(
      { ...localQuick, summary: `Assume the seller's role for connection ${connectionId}` },
      [ref],
    );
    progress.accountId = role.accountId;
    upsertSearchAttributes([
      { key: TEAM_ID, value: role.teamId },
      { key: AWS_ACCOUNT_ID, value: role.accountId },
    ]);

    progress.phase = 'listing';
    const lists = await Promise.all(
      ENTITY_TYPES.map(async (entityType) => {
        progress.types[entityType] = { status: 'listing', pages: 0, products: 0 };
        const result = await listType(connectionId, runId, entityType, role.accountId);
        progress.types[entityType] =
          result.status === 'complete'
            ? { status: 'complete', pages: result.pages, products: result.products }
            : { status: 'skipped', pages: 0, products: 0 };
        return result;
      }),
    );

    progress.phase = 'reconciling';
    const total = lists.reduce((n, l) => n + (l.status === 'complete' ? l.products : 0), 0);
    const summary = await reconciler.reconcile.executeWithOptions(
      { ...reconcileOptions, summary: `Reconcile ${total} products of account ${role.accountId}` },
      [{ ...ref, teamId: role.teamId, lists }],
    );

    progress.phase = 'succeeded';
    progress.summary = summary;
    upsertSearchAttributes([{ key: SYNC_OUTCOME, value: 'succeeded' }]);
    upsertMemo({ summary: countsOf(summary) });
    return summary;
  } catch (err) {
    const error = describeFailure(err);
    progress.phase = 'failed';
    progress.error = error;
    // Record the failure even when an operator cancelled the run: the app shows connections.sync.
    await CancellationScope.nonCancellable(() => quick.recordSyncFailure({ ...ref, error }));
    upsertSearchAttributes([{ key: SYNC_OUTCOME, value: 'failed' }]);
    upsertMemo({ error });
    if (isCancellation(err)) throw err;
    // Re-raise under the activity's failure name so the UI and a parent SyncAll show the cause, not "activity failed".
    throw ApplicationFailure.create({
      type: error.type,
      message: error.message,
      nonRetryable: true,
      cause: err as Error,
    });
  }
}

async function listType(
  connectionId: string,
  runId: string,
  entityType: EntityType,
  accountId: string,
): Promise<ListEntitiesResult> {
  const input = { connectionId, runId, entityType };
  let result: ListEntitiesResult | undefined;
  try {
    result = await firstPages.listEntities.executeWithOptions(
      { ...listingFastPath, summary: `List ${entityType} for ${accountId}` },
      [{ ...input, maxPages: FAST_PATH_PAGES }],
    );
  } catch (err) {
    // A transient failure (throttling, 5xx) on the fast path gets the patient, heartbeating activity instead.
    if (!isRetryableActivityFailure(err)) throw err;
  }
  if (result && result.status !== 'partial') return result;
  const resume = result?.cursor;
  return morePages.listEntities.executeWithOptions(
    {
      ...listingPages,
      summary: resume
        ? `List ${entityType} for ${accountId} from page ${resume.pages + 1}`
        : `List ${entityType} for ${accountId} (retry)`,
    },
    [{ ...input, resume }],
  );
}

function isRetryableActivityFailure(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  return !(err.cause instanceof ApplicationFailure && err.cause.nonRetryable);
}

function describeFailure(err: unknown): SyncError {
  if (isCancellation(err)) return { type: FailureType.Cancelled, message: 'The sync was cancelled by an operator' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { type: cause.type ?? 'Error', message: cause.message };
  }
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

function countsOf(summary: SyncSummary) {
  const { total_aws, matched, updated, auto_linked, imported } = summary;
  return { total_aws, matched, updated, auto_linked, imported, skipped_types: summary.skipped_types.length };
}
