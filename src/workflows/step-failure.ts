// How a step's failure becomes what a person reads: a named type and a final message (connections.sync, the UI, a
// SyncAll's failures). Deterministic: used by the workflows only.
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import { FailureType, isTransient, toSyncError } from '../shared/failures.ts';
import type { SyncError } from '../shared/types.ts';

/** Runs a step, turning whatever ends it into a failure named for the step's cause. */
export async function step<T>(fallbackType: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = describeFailure(err, fallbackType);
    throw ApplicationFailure.create({ ...error, nonRetryable: true, cause: err as Error });
  }
}

/**
 * What ended the sync, as the person reading connections.sync or the UI needs it: a named type and a final
 * message. A local activity's failure arrives bare, a regular one wrapped in ActivityFailure, and a retry
 * budget that ran out as a TimeoutFailure whose cause (when there is one) is the last attempt's failure.
 */
export function describeFailure(err: unknown, fallbackType: string): SyncError {
  if (isCancellation(err)) return { type: FailureType.Cancelled, message: 'The sync was cancelled by an operator' };
  let cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) cause = cause.cause ?? cause;
  if (cause instanceof ApplicationFailure && cause.type) return finalMessage(toSyncError(cause));
  if (cause instanceof TimeoutFailure) {
    return finalMessage({ type: fallbackType, message: `The step did not finish in time (${cause.timeoutType})` });
  }
  const message = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return finalMessage({ type: fallbackType, message });
}

/** A transient cause that ended the sync reads as final, so nobody waits for a retry that will not come. */
function finalMessage(error: SyncError): SyncError {
  if (!isTransient(error.type)) return error;
  return {
    type: error.type,
    message: `${error.message.replace(/\.$/, '')}. Retried with backoff until the step's time budget ran out; the sync gave up (the next scheduled sync tries again).`,
  };
}

/** The failure a workflow ends with: the cause itself when it already carries the type, else one that does. */
export function endingFailure(err: unknown, error: SyncError): ApplicationFailure {
  if (err instanceof ApplicationFailure && err.type === error.type && err.message === error.message) return err;
  return ApplicationFailure.create({ ...error, nonRetryable: true, cause: err as Error });
}
