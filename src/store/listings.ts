import type { Filter } from 'mongodb';
import type { ListingRecord } from './records.ts';

/** The fields of a listing row the reconcile plans with: never `aws_details` or the app's own fields. */
export const RECONCILE_PROJECTION = {
  _id: 1,
  entity_id: 1,
  title: 1,
  status: 1,
  aws_visibility: 1,
  aws_last_modified: 1,
  last_sync_run_id: 1,
  last_sync_action: 1,
  connection_id: 1,
  catalog_type: 1,
  aws_missing_since: 1,
  aws_details_synced_at: 1,
  aws_details_modified: 1,
  aws_details_run_id: 1,
  'aws_details_error.run_id': 1,
} as const;

/**
 * The reconcile's one read of a team's rows: rows of the products AWS listed (pass 1), unlinked published rows (pass
 * 2's candidates) and this connection's rows (to flag those AWS no longer lists). The `team_id` equality is what an
 * index serves — `team_status` on MongoDB (the partial `team_entity_unique` cannot serve a clause on
 * `entity_id: null`), a GIN index on FerretDB/PostgreSQL — so the read costs the team's rows, not the collection's
 * (test/integration/store-plans.test.ts checks the plan).
 */
export function teamRowsQuery(
  teamId: string,
  connectionId: string,
  entityIds: readonly string[],
): { filter: Filter<ListingRecord>; projection: typeof RECONCILE_PROJECTION } {
  return {
    filter: {
      team_id: teamId,
      $or: [
        { entity_id: { $in: [...entityIds] } },
        { status: 'published', entity_id: null },
        { connection_id: connectionId },
      ],
    },
    projection: RECONCILE_PROJECTION,
  };
}
