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
