// The documents listing-sync reads and writes, and the collections that hold them: the one data layer the
// activities, the client, the CLI and the event poller share.
import type { Collection, Db, Document, ObjectId } from 'mongodb';
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
