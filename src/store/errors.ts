import { ApplicationFailure } from '@temporalio/common';
import { FailureType, syncFailure } from '../shared/failures.ts';

/** MongoDB did not complete (or acknowledge) a read or write: retryable, and named for the person reading it. */
export function storeFailure(what: string, cause?: unknown): ApplicationFailure {
  const reason = cause instanceof Error ? `: ${cause.name}: ${cause.message}` : ' (the write was not acknowledged)';
  return syncFailure(FailureType.StoreUnavailable, `MongoDB did not complete ${what}${reason}`);
}
