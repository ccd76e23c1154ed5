export const SYNC_ALL_SCHEDULE_ID = 'sync-marketplace-listings';

/** One id per connection, shared by the on-connect start and SyncAll, so the two never run one connection twice. */
export function syncConnectionWorkflowId(connectionId: string): string {
  return `sync-connection-${connectionId}`;
}

/** A preview has an id of its own: it never collides with (or joins) a running sync. */
export function previewConnectionWorkflowId(connectionId: string): string {
  return `preview-connection-${connectionId}`;
}

export function syncAllWorkflowId(at: Date): string {
  return `sync-all-${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}
