// The worker's activities, composed from one small factory per step over shared deps. Workflows import only the
// type of what they proxy (`import type`), so none of this reaches the workflow bundle.
import { createAssumeRole } from './assume-role.ts';
import { connectionRecords } from './connection-record.ts';
import { activityContext, type ActivityDeps } from './deps.ts';
import { createDescribeEntities } from './describe-entities.ts';
import { createListEntities } from './list-entities.ts';
import { createPreview } from './preview.ts';
import { createReconcile } from './reconcile.ts';
import { createRecordSyncFailure } from './record-failure.ts';
import { createSyncAllActivities } from './sync-all.ts';

export type { ActivityDeps, ActivitySettings, RoleCredentials } from './deps.ts';

export function createActivities(deps: ActivityDeps) {
  const ctx = activityContext(deps);
  const records = connectionRecords(ctx);
  const { assumeRole, catalogClientFor } = createAssumeRole(ctx, records);
  const describeEntities = createDescribeEntities(ctx, catalogClientFor);
  const { reconcile, planRun } = createReconcile(ctx, records, describeEntities);
  return {
    assumeRole,
    ...createListEntities(ctx, catalogClientFor),
    reconcile,
    ...createPreview(ctx, planRun),
    ...createRecordSyncFailure(ctx, records),
    ...createSyncAllActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
