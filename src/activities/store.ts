import { ApplicationFailure } from '@temporalio/common';
import { ObjectId, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { FailureType } from '../shared/failures.ts';
import type { ConnectionDoc } from '../domain/connection.ts';
import type { DiscoveredProduct } from '../domain/products.ts';
import type { ExistingListing } from '../domain/reconcile-plan.ts';

export type DocId = string | ObjectId;

/** What the worker writes on connections.sync; the app reads it to show a connection's last sync. */
export interface ConnectionSync {
  status: 'running' | 'succeeded' | 'failed';
  started_at?: Date;
  finished_at: Date | null;
  summary?: Document | null;
  error: { type: string; message: string } | null;
  workflow_id: string;
  run_id: string;
}

export interface ConnectionRecord extends ConnectionDoc {
  _id: DocId;
  sync?: ConnectionSync;
}

export interface ListingRecord extends ExistingListing<DocId> {
  [field: string]: unknown;
}

/** One page of products discovered by a run, kept only until that run's reconcile has read it. */
export interface StagedPage {
  _id: string;
  run_id: string;
  entity_type: string;
  page: number;
  items: DiscoveredProduct[];
  created_at: Date;
}

export interface Collections {
  connections: Collection<ConnectionRecord>;
  listings: Collection<ListingRecord>;
  staging: Collection<StagedPage>;
  syncRuns: Collection<Document>;
}

export function collections(db: Db): Collections {
  return {
    connections: db.collection<ConnectionRecord>('connections'),
    listings: db.collection<ListingRecord>('listings'),
    staging: db.collection<StagedPage>('sync_staging'),
    syncRuns: db.collection('sync_runs'),
  };
}

/**
 * Connection ids reach us as strings, while the app may store ObjectIds. The exact `{_id}` filter is
 * tried first because it is the one filter every server (FerretDB included) answers from an index.
 */
export function connectionIdFilters(connectionId: string): Filter<ConnectionRecord>[] {
  const filters: Filter<ConnectionRecord>[] = [{ _id: connectionId }];
  if (/^[0-9a-f]{24}$/i.test(connectionId)) filters.push({ _id: new ObjectId(connectionId) });
  return filters;
}

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

/** MongoDB did not complete (or acknowledge) a read or write: retryable, and named for the person reading it. */
export function storeFailure(what: string, cause?: unknown): ApplicationFailure {
  const reason = cause instanceof Error ? `: ${cause.name}: ${cause.message}` : ' (the write was not acknowledged)';
  return ApplicationFailure.create({
    type: FailureType.StoreUnavailable,
    message: `MongoDB did not complete ${what}${reason}`,
  });
}

export interface IndexReport {
  uniqueLinkedListing: 'partial' | 'plain';
}

/**
 * Linked rows must be unique per (team_id, entity_id) so concurrent syncs of one team can never import a
 * product twice. MongoDB gets a partial index (unlinked rows have no entity_id and must not collide);
 * FerretDB has no partial indexes, but there a document missing the field never collides, so the plain
 * unique index behaves the same for our rows.
 */
export async function ensureIndexes(db: Db): Promise<IndexReport> {
  const c = collections(db);
  let uniqueLinkedListing: IndexReport['uniqueLinkedListing'] = 'partial';
  try {
    await c.listings.createIndex(
      { team_id: 1, entity_id: 1 },
      { name: 'team_entity_unique', unique: true, partialFilterExpression: { entity_id: { $type: 'string' } } },
    );
  } catch (err) {
    if (!isNotImplemented(err)) throw err;
    uniqueLinkedListing = 'plain';
    await c.listings.createIndex({ team_id: 1, entity_id: 1 }, { name: 'team_entity_unique', unique: true });
  }
  await c.listings.createIndex({ team_id: 1, status: 1 }, { name: 'team_status' });
  await c.staging.createIndex({ run_id: 1 }, { name: 'run' });
  await c.connections.createIndex({ provider: 1 }, { name: 'provider' });
  // The event poller finds a batch's connections by account: the recorded account id, or the role ARN's prefix.
  // With both indexed, MongoDB answers the $or from two index scans instead of every AWS connection.
  await c.connections.createIndex({ aws_account_id: 1 }, { name: 'aws_account' });
  await c.connections.createIndex({ iam_role_arn: 1 }, { name: 'iam_role_arn' });
  return { uniqueLinkedListing };
}

function isNotImplemented(err: unknown): boolean {
  const e = err as { code?: number; codeName?: string; message?: string };
  return (
    e.code === 238 ||
    e.codeName === 'NotImplemented' ||
    /not ?implemented|partialFilterExpression/i.test(e.message ?? '')
  );
}
