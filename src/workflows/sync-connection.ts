import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  setCurrentDetails,
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
const fastPath = proxyLocalActivities<Activities>(listingFastPath);
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
  // The client and SyncAll set ConnectionId at start; a run started by hand (temporal workflow start) gets it here.
  if (workflowInfo().typedSearchAttributes.get(CONNECTION_ID) === undefined) {
    upsertSearchAttributes([{ key: CONNECTION_ID, value: connectionId }]);
  }
  setCurrentDetails(`Syncing AWS Marketplace listings of connection **${connectionId}**`);
  let teamId: string | null = null;
  // Each upsert is a history event and a visibility write, so the outcome and the ids found on the way go in one.
  const finish = (outcome: 'succeeded' | 'failed', details: string) => {
    upsertSearchAttributes([
      { key: SYNC_OUTCOME, value: outcome },
      ...(teamId ? [{ key: TEAM_ID, value: teamId }] : []),
      ...(progress.accountId ? [{ key: AWS_ACCOUNT_ID, value: progress.accountId }] : []),
    ]);
    setCurrentDetails(details);
  };

  try {
    progress.phase = 'assuming-role';
    const role = await quick.assumeRole.executeWithOptions(
      { ...localQuick, summary: `Assume the seller's role for connection ${connectionId}` },
      [ref],
    );
    progress.accountId = role.accountId;
    teamId = role.teamId;
    setCurrentDetails(
      `Connection **${connectionId}**, AWS account ${role.accountId}, team ${role.teamId}: listing products`,
    );

    progress.phase = 'listing';
    for (const entityType of ENTITY_TYPES) progress.types[entityType] = { status: 'listing', pages: 0, products: 0 };
    const firstPages = await listFirstPages(connectionId, runId, role.accountId);
    const lists = await Promise.all(
      ENTITY_TYPES.map(async (entityType, i) => {
        const fast = firstPages?.[i];
        const result = fast && fast.status !== 'partial' ? fast : await listRest(ref, entityType, role.accountId, fast);
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
    finish('succeeded', describeSummary(connectionId, role.accountId, summary));
    return summary;
  } catch (err) {
    const error = describeFailure(err);
    progress.phase = 'failed';
    progress.error = error;
    // Record the failure even when an operator cancelled the run: the app shows connections.sync.
    await CancellationScope.nonCancellable(() => quick.recordSyncFailure({ ...ref, error }));
    finish('failed', `Connection **${connectionId}** failed: **${error.type}**: ${error.message}`);
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

/**
 * Every type's first pages in one local activity. Most sellers have fewer than 100 products per type, so
 * this is usually the whole listing; undefined means a transient failure, left to the patient path.
 */
async function listFirstPages(
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
    if (!isRetryableActivityFailure(err)) throw err;
    return undefined;
  }
}

/** The rest of a type's pages (or all of them after a fast-path failure), heartbeating its cursor. */
async function listRest(
  ref: RunRef,
  entityType: EntityType,
  accountId: string,
  partial: ListEntitiesResult | undefined,
): Promise<ListEntitiesResult> {
  const resume = partial?.status === 'partial' ? partial.cursor : undefined;
  return morePages.listEntities.executeWithOptions(
    {
      ...listingPages,
      summary: resume
        ? `List ${entityType} for ${accountId} from page ${resume.pages + 1}`
        : `List ${entityType} for ${accountId}`,
    },
    [{ connectionId: ref.connectionId, runId: ref.runId, entityType, resume }],
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

function describeSummary(connectionId: string, accountId: string, s: SyncSummary): string {
  const lines = [
    `Connection **${connectionId}**, AWS account ${accountId}: synced`,
    '',
    `| total_aws | matched | updated | auto_linked | imported |`,
    `| --- | --- | --- | --- | --- |`,
    `| ${s.total_aws} | ${s.matched} | ${s.updated} | ${s.auto_linked} | ${s.imported} |`,
  ];
  for (const t of s.skipped_types) lines.push('', `Skipped ${t.entity_type}: ${t.reason}`);
  if (s.ambiguous.length > 0)
    lines.push('', `Ambiguous titles left to a person: ${s.ambiguous.map((a) => a.title).join(', ')}`);
  return lines.join('\n');
}
