import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';
import type { SyncError } from './types.ts';

// Failure type names are part of the operator contract: they show in the Temporal UI, on
// connections.sync.error.type and in the runbook, so renaming one is a breaking change.
export const FailureType = {
  /** The connection document is missing fields or holds a malformed role ARN / external ID. */
  InvalidConnection: 'InvalidConnection',
  /** No connection with that id (deleted between scheduling and running). */
  ConnectionNotFound: 'ConnectionNotFound',
  /** STS refused AssumeRole: trust policy, external ID or permissions. */
  AssumeRoleDenied: 'AssumeRoleDenied',
  /** STS throttled or failed transiently; retried with backoff. */
  StsUnavailable: 'StsUnavailable',
  /** The assumed role may not call the Catalog API. */
  CatalogAccessDenied: 'CatalogAccessDenied',
  /** Catalog API throttling (429); retried with backoff. */
  CatalogThrottled: 'CatalogThrottled',
  /** Catalog API 5xx or network failure; retried with backoff. */
  CatalogUnavailable: 'CatalogUnavailable',
  /** The Catalog API rejected a request for a reason other than an unsupported entity type. */
  CatalogRequestRejected: 'CatalogRequestRejected',
  /** ListEntities handed back a page token it had already given, or more pages than any seller can have. */
  CatalogPaginationLoop: 'CatalogPaginationLoop',
  /** MongoDB did not answer or did not acknowledge a write; retried with backoff. */
  StoreUnavailable: 'StoreUnavailable',
  /** Staged products of a run are gone (expired or deleted); the sync must start over. */
  StagingMissing: 'StagingMissing',
  /** A sync handed over to a SyncAll chain never reported how it ended (it was terminated by hand). */
  OutcomeUnknown: 'OutcomeUnknown',
  /** The workflow was cancelled by an operator. */
  Cancelled: 'Cancelled',
  /** A workflow was started with input it cannot take (e.g. no connectionId): fix the caller; nothing was written. */
  InvalidInput: 'InvalidInput',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

interface FailureTraits {
  /**
   * Transient: the step's retry policy retries it with backoff until the step's time budget is spent, and a sync that
   * still ends on it says so. Otherwise the step ends at once: retrying cannot help until someone fixes something.
   */
  retryable: boolean;
  /** Raised by an activity (and so named in the retry policies) or by a workflow itself. */
  raisedBy: 'activity' | 'workflow';
}

/**
 * The one failure table: whether each failure type is retried. Retry policies (workflows/activity-options.ts), every
 * failure an activity raises (syncFailure), the workflow's final message (workflows/sync-connection.ts) and the CLI
 * derive from it; what each means for an operator is in docs/runbook.md, "Failure types".
 */
export const FAILURES: Record<FailureType, FailureTraits> = {
  InvalidConnection: { retryable: false, raisedBy: 'activity' },
  ConnectionNotFound: { retryable: false, raisedBy: 'activity' },
  AssumeRoleDenied: { retryable: false, raisedBy: 'activity' },
  StsUnavailable: { retryable: true, raisedBy: 'activity' },
  CatalogAccessDenied: { retryable: false, raisedBy: 'activity' },
  CatalogThrottled: { retryable: true, raisedBy: 'activity' },
  // Also an expired or rejected role session: retried with a fresh session (aws-errors.ts, rejectedSessionFailure).
  CatalogUnavailable: { retryable: true, raisedBy: 'activity' },
  CatalogRequestRejected: { retryable: false, raisedBy: 'activity' },
  CatalogPaginationLoop: { retryable: false, raisedBy: 'activity' },
  StoreUnavailable: { retryable: true, raisedBy: 'activity' },
  StagingMissing: { retryable: false, raisedBy: 'activity' },
  OutcomeUnknown: { retryable: false, raisedBy: 'workflow' },
  Cancelled: { retryable: false, raisedBy: 'workflow' },
  InvalidInput: { retryable: false, raisedBy: 'workflow' },
};

/** The activity failure types no retry can help: every retry policy's nonRetryableErrorTypes. */
export const NON_RETRYABLE_FAILURES: readonly FailureType[] = (Object.keys(FAILURES) as FailureType[]).filter(
  (type) => FAILURES[type].raisedBy === 'activity' && !FAILURES[type].retryable,
);

function isFailureType(type: string): type is FailureType {
  return Object.hasOwn(FAILURES, type);
}

/** Whether a failure of this type is retried; a type outside the table (a bug, a library's error) is. */
export function isRetryable(type: string): boolean {
  return isFailureType(type) ? FAILURES[type].retryable : true;
}

/** One of listing-sync's own transient types: a sync that still ends on it says the retries ran out. */
export function isTransient(type: string): boolean {
  return isFailureType(type) && FAILURES[type].retryable;
}

/** A failure of one of listing-sync's types, retryable exactly as the table says. */
export function syncFailure(
  type: FailureType,
  message: string,
  options: { details?: unknown[]; cause?: Error } = {},
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: !FAILURES[type].retryable, ...options });
}

/**
 * Any error as the `{type, message}` a person reads (connections.sync.error, a SyncAll failure, the CLI): an
 * ApplicationFailure's type, otherwise the error's name, with Temporal's wrappers (an activity's or a child
 * workflow's failure, a client's WorkflowFailedError) unwrapped to their cause.
 */
export function toSyncError(err: unknown, fallbackType = 'Error'): SyncError {
  let cause = err;
  while (
    (cause instanceof ActivityFailure ||
      cause instanceof ChildWorkflowFailure ||
      (cause as Error | null)?.name === 'WorkflowFailedError') &&
    (cause as Error).cause
  ) {
    cause = (cause as Error).cause;
  }
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? fallbackType, message: cause.message };
  if (cause instanceof Error) return { type: cause.name || fallbackType, message: cause.message };
  return { type: fallbackType, message: String(cause) };
}

/** connections.sync.error's message when one entity type failed and the others were reconciled. */
export function failedTypeMessage(failed: { entity_type: string; message: string }): string {
  return `${failed.entity_type} could not be listed; the other types were synced. ${failed.message}`;
}
