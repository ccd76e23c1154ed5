import { Client, Connection, WorkflowIdConflictPolicy, type WorkflowHandle } from '@temporalio/client';
import type { Config } from '../config.ts';
import { CONNECTION_ID } from '../shared/search-attributes.ts';
import type { SyncPreview, SyncSummary } from '../shared/types.ts';
import { previewConnectionWorkflowId, syncConnectionWorkflowId } from '../shared/workflow-ids.ts';
import type { previewConnectionSync, syncConnection } from '../workflows/index.ts';

export { syncConnectionWorkflowId };

export interface ConnectionSyncStart {
  workflowId: string;
  handle: WorkflowHandle<typeof syncConnection>;
}

/** What app code uses on connect; one instance per process, it holds the gRPC connection. */
export class ListingSyncClient {
  private constructor(
    readonly client: Client,
    readonly taskQueue: string,
    private readonly uiUrl: string | null,
  ) {}

  static async connect(config: Config): Promise<ListingSyncClient> {
    const connection = await Connection.connect(config.temporal.connection);
    const client = new Client({ connection, namespace: config.temporal.namespace });
    return new ListingSyncClient(client, config.temporal.taskQueue, config.temporal.uiUrl);
  }

  static fromClient(client: Client, taskQueue: string, uiUrl: string | null = null): ListingSyncClient {
    return new ListingSyncClient(client, taskQueue, uiUrl);
  }

  /**
   * Starts the connection's sync, or returns the one already running: the workflow id is derived from
   * the connection, and USE_EXISTING makes a second call while one runs attach to it instead of failing.
   */
  async startConnectionSync(connectionId: string): Promise<ConnectionSyncStart> {
    const workflowId = syncConnectionWorkflowId(connectionId);
    const handle = await this.client.workflow.start<typeof syncConnection>('syncConnection', {
      taskQueue: this.taskQueue,
      workflowId,
      args: [{ connectionId }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [{ key: CONNECTION_ID, value: connectionId }],
      staticSummary: `Sync AWS Marketplace listings of connection ${connectionId}`,
    });
    return { workflowId, handle };
  }

  /** Starts (or joins) the connection's sync and waits for its summary. */
  async syncConnectionNow(connectionId: string): Promise<SyncSummary> {
    const { handle } = await this.startConnectionSync(connectionId);
    return handle.result();
  }

  /**
   * What a sync would do now, writing nothing: runs as its own workflow (visible in the Web UI); a second
   * call while one runs joins it.
   */
  async previewConnectionSync(connectionId: string): Promise<SyncPreview> {
    const handle = await this.client.workflow.start<typeof previewConnectionSync>('previewConnectionSync', {
      taskQueue: this.taskQueue,
      workflowId: previewConnectionWorkflowId(connectionId),
      args: [{ connectionId }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [{ key: CONNECTION_ID, value: connectionId }],
      staticSummary: `Preview a sync of connection ${connectionId} (writes nothing)`,
    });
    return handle.result();
  }

  /** Link to a run in the Web UI, or null when no UI address is configured. */
  uiLink(workflowId: string, runId?: string): string | null {
    if (!this.uiUrl) return null;
    const ns = encodeURIComponent(this.client.options.namespace);
    const base = `${this.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${base}/${runId}/history` : base;
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }
}
