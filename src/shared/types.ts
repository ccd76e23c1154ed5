import type { AmbiguousTitle, ReconcileCounts } from '../domain/reconcile-plan.ts';
import type { DiscoveredProduct } from '../domain/products.ts';
import type { EntityType } from '../domain/entity-types.ts';

export const DEFAULT_TASK_QUEUE = 'listing-sync';

export interface SyncConnectionInput {
  connectionId: string;
  /** Why this run exists when it is not a plain sync, e.g. "Refresh after Change Set Succeeded". */
  trigger?: SyncTrigger;
  /** A SyncAll chain the previous run of this sync was to report to (carried across a refresh's continue-as-new). */
  reportTo?: string | null;
}

/** A Catalog event asking for a fresh sync of a connection (the `refresh` signal). */
export interface RefreshRequest {
  eventId: string;
  detailType: string;
  account: string;
}

export interface SyncTrigger {
  reason: string;
  eventId: string;
  /** Set on the extra run a refresh asked for while the previous run was already listing. */
  afterRun?: boolean;
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
  /** Digests of every page token already sent in this listing, so a token AWS hands back twice is caught. */
  seen: string[];
}

export interface ListEntitiesInput {
  connectionId: string;
  runId: string;
  entityType: EntityType;
  resume?: ListCursor | undefined;
  /** Stop after this many pages and hand back a cursor (the local-activity fast path). */
  maxPages?: number | undefined;
  /** Hand back a cursor once this long has passed, so each call's retry budget is a budget for a stall. */
  returnAfterMs?: number | undefined;
}

export interface ListFirstPagesInput extends Omit<ListEntitiesInput, 'entityType' | 'resume' | 'returnAfterMs'> {
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
      /** The first unusable summaries (see SyncSummary.invalid_products) and how many there were. */
      invalid: string[];
      invalidCount: number;
    }
  | { entityType: EntityType; status: 'partial'; cursor: ListCursor; invalid: string[]; invalidCount: number }
  | { entityType: EntityType; status: 'skipped'; reason: string }
  /** The type could not be listed: its products are not reconciled this run and the sync ends failed. */
  | { entityType: EntityType; status: 'failed'; error: SyncError }
  /** The fast path hit a transient failure; the patient, retrying path lists the type again. */
  | { entityType: EntityType; status: 'interrupted'; error: SyncError };

export interface ReconcileInput extends RunRef {
  teamId: string;
  lists: ListEntitiesResult[];
}

export interface SkippedType {
  entity_type: EntityType;
  reason: string;
}

export interface FailedType {
  entity_type: EntityType;
  type: string;
  message: string;
}

export interface SyncSummary extends ReconcileCounts {
  skipped_types: SkippedType[];
  /** Types that could not be listed; when not empty the sync ends failed, after reconciling the other types. */
  failed_types: FailedType[];
  /** Rows whose aws_details were written this run, and rows whose BatchDescribeEntities entry was an error. */
  enriched: number;
  enrich_errors: number;
  /** Rows of this connection flagged aws_missing_since this run (including ones flagged before). */
  missing: number;
  ambiguous: AmbiguousTitle[];
  /** AWS summaries that could not be used (no usable id, another entity type): how many, and the first few. */
  invalid: number;
  invalid_products: string[];
  /** Why the run happened when an event asked for it, e.g. "Refresh after Change Set Succeeded". */
  trigger?: string;
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
  types: Partial<
    Record<EntityType, { status: 'listing' | 'complete' | 'skipped' | 'failed'; pages: number; products: number }>
  >;
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
  /** Connections whose sync an earlier run of the chain started and that report to the chain by signal. */
  awaitingReports?: string[];
  /** Overrides of the worker's defaults, for a one-off run. */
  concurrency?: number;
  batchSize?: number;
  /**
   * How long the chain's last run waits for handed-over children to report before naming them OutcomeUnknown
   * (default one hour). A duration string such as '3 seconds'.
   */
  reportDeadline?: string;
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
  /** Syncs started by earlier runs of the chain, still running; they count against the concurrency window. */
  handedOver: number;
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

/** A SyncConnection started by SyncAll tells the chain how it ended, when the run that started it is gone. */
export type ConnectionReport =
  | { connectionId: string; outcome: 'succeeded'; counts: ReconcileCounts }
  | { connectionId: string; outcome: 'failed'; failure: ConnectionFailure; counts: ReconcileCounts | null };

/** What a sync of a connection would do now (`previewConnectionSync`); nothing is written. */
export interface SyncPreview {
  total_aws: number;
  would: { update: number; link: number; import: number; flag_missing: number; describe: number };
  /** The first 50 titles of each kind. */
  titles: { update: string[]; link: string[]; import: string[]; flag_missing: string[] };
  ambiguous: AmbiguousTitle[];
  skipped_types: SkippedType[];
  failed_types: FailedType[];
}
