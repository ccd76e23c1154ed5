import type { AmbiguousTitle, ReconcileCounts } from '../domain/reconcile-plan.ts';
import type { DiscoveredProduct } from '../domain/products.ts';
import type { EntityType } from '../domain/entity-types.ts';

export const DEFAULT_TASK_QUEUE = 'listing-sync';

export interface SyncConnectionInput {
  connectionId: string;
}

/** Where a run of SyncConnection writes its status; identifies the run on connections.sync. */
export interface RunRef {
  connectionId: string;
  workflowId: string;
  runId: string;
}

/** Non-secret facts about an assumed role session. The credentials themselves stay in the worker. */
export interface AssumedRole {
  teamId: string;
  accountId: string;
  roleArn: string;
  expiresAt: string;
}

export interface ListCursor {
  nextToken: string;
  pages: number;
  products: number;
}

export interface ListEntitiesInput {
  connectionId: string;
  runId: string;
  entityType: EntityType;
  resume?: ListCursor | undefined;
  /** Stop after this many pages and hand back a cursor (the local-activity fast path). */
  maxPages?: number | undefined;
}

export interface ListFirstPagesInput extends Omit<ListEntitiesInput, 'entityType' | 'resume'> {
  entityTypes: EntityType[];
  maxPages: number;
}

export type ListEntitiesResult =
  | {
      entityType: EntityType;
      status: 'complete';
      pages: number;
      products: number;
      /** Products returned in the result when few; otherwise staged in MongoDB under the run id. */
      inline: DiscoveredProduct[] | null;
      invalid: string[];
    }
  | { entityType: EntityType; status: 'partial'; cursor: ListCursor; invalid: string[] }
  | { entityType: EntityType; status: 'skipped'; reason: string };

export interface ReconcileInput extends RunRef {
  teamId: string;
  lists: ListEntitiesResult[];
}

export interface SkippedType {
  entity_type: EntityType;
  reason: string;
}

export interface SyncSummary extends ReconcileCounts {
  skipped_types: SkippedType[];
  ambiguous: AmbiguousTitle[];
  invalid_products: string[];
}

export interface SyncError {
  type: string;
  message: string;
}

export type SyncPhase = 'starting' | 'assuming-role' | 'listing' | 'reconciling' | 'succeeded' | 'failed';

export interface SyncConnectionProgress {
  connectionId: string;
  phase: SyncPhase;
  accountId: string | null;
  types: Partial<Record<EntityType, { status: 'listing' | 'complete' | 'skipped'; pages: number; products: number }>>;
  summary: SyncSummary | null;
  error: SyncError | null;
}

export interface SyncAllTotals {
  connections: { succeeded: number; failed: number; skipped: number };
  total_aws: number;
  matched: number;
  updated: number;
  auto_linked: number;
  imported: number;
}

export interface ConnectionFailure {
  connection_id: string;
  type: string;
  message: string;
}

/** A position in the connections collection, typed because string and ObjectId ids sort apart. */
export interface ConnectionCursor {
  kind: 'string' | 'objectId';
  value: string;
}

export interface SyncAllInput {
  chainStartedAt?: string;
  cursor?: ConnectionCursor | null;
  totals?: SyncAllTotals;
  failures?: ConnectionFailure[];
  runsInChain?: number;
  /** Overrides of the worker's defaults, for a one-off run. */
  concurrency?: number;
  batchSize?: number;
}

export interface SyncAllResult {
  chainId: string;
  runs: number;
  totals: SyncAllTotals;
  failures: ConnectionFailure[];
  failures_truncated: boolean;
}

export interface SyncAllProgress {
  chainId: string;
  run: number;
  batchSize: number;
  started: number;
  running: number;
  remainingInBatch: number;
  totals: SyncAllTotals;
}

export interface ConnectionsPage {
  /** Each connection as a cursor, so a run that stops mid-page can hand its position to the next. */
  entries: ConnectionCursor[];
  next: ConnectionCursor | null;
}

export interface SyncRunRecord {
  chainId: string;
  workflowId: string;
  status: 'running' | 'succeeded' | 'cancelled';
  startedAt: string;
  finishedAt: string | null;
  runs: number;
  totals: SyncAllTotals;
  failures: ConnectionFailure[];
  failuresTruncated: boolean;
}
