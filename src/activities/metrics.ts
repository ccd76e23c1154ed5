/** Product-level counters; the worker backs them with the Temporal runtime's meter (Prometheus). */
export interface SyncMetrics {
  awsCall(operation: string, outcome: 'ok' | 'throttled' | 'error'): void;
  syncFinished(outcome: 'succeeded' | 'failed'): void;
  listingsWritten(kind: 'imported' | 'updated' | 'auto_linked', count: number): void;
}

export const noopMetrics: SyncMetrics = {
  awsCall: () => undefined,
  syncFinished: () => undefined,
  listingsWritten: () => undefined,
};
