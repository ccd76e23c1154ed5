/** Product-level counters; the worker backs them with the Temporal runtime's meter (Prometheus). */
export interface SyncMetrics {
  awsCall(operation: string, outcome: 'ok' | 'throttled' | 'error'): void;
  syncFinished(outcome: 'succeeded' | 'failed'): void;
  listingsWritten(kind: 'imported' | 'updated' | 'auto_linked', count: number): void;
  /** Time one step of a sync took in this worker (bench:sync-all's breakdown reads it). */
  stepSeconds(step: SyncStep, seconds: number): void;
}

/** The steps a sync's time is spent in: the role, the listing, and the reconcile's read, describe and writes. */
export type SyncStep = 'assume_role' | 'list' | 'reconcile_read' | 'describe' | 'reconcile_write';

/** Runs `fn` and reports how long it took as `step`, whether it succeeded or not. */
export async function timed<T>(metrics: SyncMetrics, step: SyncStep, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    metrics.stepSeconds(step, (performance.now() - started) / 1000);
  }
}

export const noopMetrics: SyncMetrics = {
  awsCall: () => undefined,
  syncFinished: () => undefined,
  listingsWritten: () => undefined,
  stepSeconds: () => undefined,
};
