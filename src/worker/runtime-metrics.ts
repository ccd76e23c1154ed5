import { Runtime } from '@temporalio/worker';
import type { SyncMetrics } from '../activities/metrics.ts';
import type { EventOutcome } from '../events/event-poller.ts';

/** Product counters on the Temporal runtime's meter, so they appear on the worker's Prometheus endpoint. */
export function runtimeMetrics(): SyncMetrics {
  const meter = Runtime.instance().metricMeter;
  const awsCalls = meter.createCounter('listing_sync_aws_calls', 'calls', 'AWS API calls by operation and outcome');
  const syncs = meter.createCounter('listing_sync_syncs', 'syncs', 'Finished connection syncs by outcome');
  const listings = meter.createCounter(
    'listing_sync_listings_written',
    'listings',
    'Listings imported, updated or auto-linked',
  );
  const steps = meter.createHistogram(
    'listing_sync_step_seconds',
    'float',
    's',
    'Time spent per sync step: assume_role, list, reconcile_read, describe, reconcile_write',
  );
  return {
    stepSeconds: (step, seconds) => steps.record(seconds, { step }),
    awsCall: (operation, outcome) => awsCalls.add(1, { operation, outcome }),
    syncFinished: (outcome) => syncs.add(1, { outcome }),
    listingsWritten: (kind, count) => {
      if (count > 0) listings.add(count, { kind });
    },
  };
}

/** Catalog event messages by what became of them (refreshed, unknown_account, malformed, deferred). */
export function eventMetrics(): (outcome: EventOutcome) => void {
  const events = Runtime.instance().metricMeter.createCounter(
    'listing_sync_events',
    'messages',
    'Catalog event messages by outcome',
  );
  return (outcome) => events.add(1, { outcome });
}
