import {
  CancellationScope,
  isCancellation,
  proxyLocalActivities,
  setCurrentDetails,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { FailureType } from '../shared/failures.ts';
import type { RunRef, SyncConnectionInput, SyncPreview } from '../shared/types.ts';
import { syncConnectionInputProblems } from '../shared/workflow-inputs.ts';
import { reconcileOptions, storeOptions } from './activity-options.ts';
import { assumeRole, listAllTypes } from './discover.ts';
import { describeFailure, endingFailure, step } from './step-failure.ts';
import { rejectInvalidInput } from './valid-input.ts';
import { whenVersioned } from './versioning.ts';

const store = proxyLocalActivities<Activities>(storeOptions);
const planner = proxyLocalActivities<Activities>(reconcileOptions);

/**
 * What a sync of the connection would do now: the same discover step and plan as SyncConnection, with nothing
 * written to listings or connections. Its own workflow id, so it never collides with a sync.
 */
export async function previewConnectionSync(input: Pick<SyncConnectionInput, 'connectionId'>): Promise<SyncPreview> {
  rejectInvalidInput('previewConnectionSync', syncConnectionInputProblems(input, { preview: true }));
  const { connectionId } = input;
  const { workflowId, runId } = workflowInfo();
  const ref: RunRef = { connectionId, workflowId, runId };
  try {
    const role = await assumeRole(ref, { preview: true });
    const lists = await listAllTypes(ref, role.accountId);
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
    throw endingFailure(err, error);
  }
}

// A preview is short and writes nothing; it finishes on the build it started on.
setWorkflowOptions(whenVersioned('PINNED'), previewConnectionSync);
