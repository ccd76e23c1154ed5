/**
 * SyncAll's defaults: children running at once, and connections per run before continue-as-new. The workflow uses
 * them for a run started without them; the worker's config (SYNC_ALL_CONCURRENCY, SYNC_ALL_BATCH_SIZE) for the
 * schedule's runs.
 */
export const SYNC_ALL_DEFAULTS = { concurrency: 50, batchSize: 1_000 } as const;
