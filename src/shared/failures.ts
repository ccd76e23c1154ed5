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
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const NON_RETRYABLE_FAILURES: readonly FailureType[] = [
  FailureType.InvalidConnection,
  FailureType.ConnectionNotFound,
  FailureType.AssumeRoleDenied,
  FailureType.CatalogAccessDenied,
  FailureType.CatalogRequestRejected,
  FailureType.CatalogPaginationLoop,
  FailureType.StagingMissing,
];

/** connections.sync.error's message when one entity type failed and the others were reconciled. */
export function failedTypeMessage(failed: { entity_type: string; message: string }): string {
  return `${failed.entity_type} could not be listed; the other types were synced. ${failed.message}`;
}
