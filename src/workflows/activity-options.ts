import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../shared/failures.ts';

const nonRetryableErrorTypes = [...NON_RETRYABLE_FAILURES];

// Every step's retries are bounded by a budget (scheduleToClose) rather than an attempt count: AWS and
// MongoDB outages are measured in time. The AWS budgets outlast a few minutes of throttling or 5xx, yet a
// hung endpoint still fails by name within five minutes of the step starting.
const patientRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes,
};

/** STS AssumeRole. A local activity: no task-queue round trip and one history marker. */
export const assumeRoleOptions: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '3 minutes',
  retry: patientRetry,
};

/** Short MongoDB reads and writes (status, SyncAll's pages and records): outlive a database restart. */
export const storeOptions: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry: patientRetry,
};

/**
 * Every type's first pages in one local activity. A type's own AWS failure comes back in the result (the
 * patient path takes it from there), so attempts here only cover a crash or timeout of the activity.
 */
export const listingFastPath: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { ...patientRetry, maximumAttempts: 2 },
};

/** How long one patient listing call works before handing its cursor back, so its budget is a stall budget. */
export const LISTING_CALL_MS = 60_000;

/**
 * Long listings, and any type the fast path could not finish: a regular activity whose heartbeats carry
 * the page cursor, so a retry resumes where the last attempt stopped. The heartbeat timeout is a few
 * heartbeat intervals: a crashed worker costs the listing seconds.
 */
export const listingPages: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '3.5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...patientRetry, initialInterval: '2 seconds' },
};

/** Reconcile reads and writes MongoDB in bulk; a 20,000-product catalog takes seconds, an outage minutes. */
export const reconcileOptions: LocalActivityOptions = {
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '10 minutes',
  retry: { ...patientRetry, initialInterval: '2 seconds' },
};
