import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../shared/failures.ts';

const nonRetryableErrorTypes = [...NON_RETRYABLE_FAILURES];

// Short, bounded calls run as local activities: no task-queue round trip and one history marker each,
// which is what lets a SyncAll over thousands of connections keep up with a plain loop.
export const localQuick: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes,
  },
};

/** The first pages of each type; a type that needs more continues in `listingPages`. */
export const listingFastPath: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes,
  },
};

/** Long listings: heartbeats carry the page cursor, so a retry resumes where the last attempt stopped. */
export const listingPages: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes,
  },
};

/** Reconcile reads and writes MongoDB in bulk; a 20,000-product catalog takes seconds, not minutes. */
export const reconcileOptions: LocalActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes,
  },
};
