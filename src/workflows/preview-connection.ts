import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyLocalActivities,
  setCurrentDetails,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { ENTITY_TYPES } from '../domain/entity-types.ts';
import { FailureType } from '../shared/failures.ts';
import type { RunRef, SyncConnectionInput, SyncPreview } from '../shared/types.ts';
import { assumeRoleOptions, reconcileOptions, storeOptions } from './activity-options.ts';
import { describeFailure, listFirstPages, listType, step } from './sync-connection.ts';
import { whenVersioned } from './versioning.ts';

type Activities = ReturnType<typeof createActivities>;

const assumer = proxyLocalActivities<Activities>(assumeRoleOptions);
const store = proxyLocalActivities<Activities>(storeOptions);
const planner = proxyLocalActivities<Activities>(reconcileOptions);

/**
 * What a sync of the connection would do now: the same role, listing and plan as SyncConnection, with
 * nothing written to listings or connections. Its own workflow id, so it never collides with a sync.
 */
export async function previewConnectionSync({
  connectionId,
}: Pick<SyncConnectionInput, 'connectionId'>): Promise<SyncPreview> {
  const { workflowId, runId } = workflowInfo();
  const ref: RunRef = { connectionId, workflowId, runId };
  try {
    const role = await step(FailureType.StsUnavailable, () =>
      assumer.assumeRole.executeWithOptions(
        { ...assumeRoleOptions, summary: `Assume the seller's role for a preview of ${connectionId}` },
        [{ ...ref, preview: true }],
      ),
    );
    const firstPages = await listFirstPages(connectionId, runId, role.accountId);
    const lists = await Promise.all(
      ENTITY_TYPES.map((entityType, i) => listType(ref, entityType, role.accountId, firstPages?.[i])),
    );
    const preview = await step(FailureType.StoreUnavailable, () =>
      planner.previewReconcile.executeWithOptions(
        { ...reconcileOptions, summary: `Plan a sync of account ${role.accountId} without writing` },
        [{ ...ref, teamId: role.teamId, lists }],
      ),
    );
    const w = preview.would;
    setCurrentDetails(
      `Preview of connection **${connectionId}** (AWS account ${role.accountId}): a sync would update ${w.update}, ` +
        `link ${w.link}, import ${w.import}, flag ${w.flag_missing} as gone from AWS and describe ${w.describe}`,
    );
    return preview;
  } catch (err) {
    await CancellationScope.nonCancellable(() => store.discardStaging({ runId, connectionId }));
    if (isCancellation(err)) throw err;
    const error = describeFailure(err, 'Error');
    setCurrentDetails(`Preview of connection **${connectionId}** failed: **${error.type}**: ${error.message}`);
    if (err instanceof ApplicationFailure && err.type === error.type) throw err;
    throw ApplicationFailure.create({ ...error, nonRetryable: true, cause: err as Error });
  }
}

// A preview is short and writes nothing; it finishes on the build it started on.
setWorkflowOptions(whenVersioned('PINNED'), previewConnectionSync);
