import {
  Client,
  Connection,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { collections, firstForConnection } from '../store/index.ts';
import { ConfigError, type Config } from '../config.ts';
import { refreshReason } from '../domain/catalog-event.ts';
import { EXTERNAL_ID } from '../domain/connection.ts';
import { onboardingQuickCreateUrl } from '../domain/onboarding.ts';
import { CONNECTION_ID } from '../shared/search-attributes.ts';
import type { RefreshRequest, SyncPreview, SyncSummary } from '../shared/types.ts';
import { previewConnectionWorkflowId, syncConnectionWorkflowId } from '../shared/workflow-ids.ts';
import { refreshSignal } from '../workflows/signals.ts';
import type { previewConnectionSync, syncConnection } from '../workflows/index.ts';

export { syncConnectionWorkflowId };

export interface ConnectionSyncStart {
  workflowId: string;
  handle: WorkflowHandle<typeof syncConnection>;
}

export interface RefreshStart {
  workflowId: string;
  /** The run the refresh reached: a new one, or the running sync that will sync once more. */
  runId: string;
}

/** What the client needs beyond Temporal for onboarding links: the connections collection and the vendor's settings. */
interface OnboardingSource {
  db: () => Promise<Db>;
  settings: Config['onboarding'];
}

/** What app code uses on connect; one instance per process, it holds the gRPC connection. */
export class ListingSyncClient {
  private constructor(
    readonly client: Client,
    readonly taskQueue: string,
    private readonly uiUrl: string | null,
    private readonly onboarding: OnboardingSource | null,
    private readonly onClose: () => Promise<void>,
  ) {}

  static async connect(config: Config): Promise<ListingSyncClient> {
    const connection = await Connection.connect(config.temporal.connection);
    const client = new Client({ connection, namespace: config.temporal.namespace });
    // MongoDB only for onboarding links, connected on first use: starting syncs needs Temporal alone.
    let mongo: Promise<MongoClient> | null = null;
    const db = async () => {
      mongo ??= new MongoClient(config.mongo.uri).connect();
      return (await mongo).db(config.mongo.dbName);
    };
    return new ListingSyncClient(
      client,
      config.temporal.taskQueue,
      config.temporal.uiUrl,
      { db, settings: config.onboarding },
      async () => {
        if (mongo) await (await mongo).close();
      },
    );
  }

  /** Over a client the caller owns (tests, scripts); onboarding links need connect(config). */
  static fromClient(client: Client, taskQueue: string, uiUrl: string | null = null): ListingSyncClient {
    return new ListingSyncClient(client, taskQueue, uiUrl, null, () => Promise.resolve());
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

  /**
   * "Sync now with what I just saved", for the app's connect and reconnect: a refresh (below) named Connect. No sync
   * running: starts one. A sync running that has not yet listed reads the connection as saved now; one that has
   * runs once more when it ends, whether it succeeded or failed, so a role the seller just fixed shows within one
   * sync. (startConnectionSync instead joins a running sync as it is.)
   */
  async connectConnection(connectionId: string): Promise<RefreshStart> {
    return this.requestRefresh(connectionId, {
      eventId: `connect-${randomUUID()}`,
      detailType: 'Connect',
      account: '',
    });
  }

  /**
   * The seller disconnected: the app first marks the connection `disabled: true` (SyncAll and Catalog events then
   * skip it), then calls this, which cancels the connection's sync if one runs. A cancelled sync stops at its next
   * step, records `Cancelled` on connections.sync and leaves every listing as it is (they are the seller's). False
   * when no sync was running. Reconnecting is clearing `disabled` and connectConnection.
   */
  async disconnectConnection(connectionId: string): Promise<boolean> {
    const handle = this.client.workflow.getHandle(syncConnectionWorkflowId(connectionId));
    try {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return false;
      await handle.cancel();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /**
   * Asks for a sync because something changed in AWS. No sync running: starts one (its summary in the UI says
   * why). A sync running: signals it, and it syncs once more when it ends if it had already begun listing.
   * Signal-with-start is one atomic call, so two callers at once never start two runs.
   */
  async requestRefresh(connectionId: string, request: RefreshRequest): Promise<RefreshStart> {
    const workflowId = syncConnectionWorkflowId(connectionId);
    const reason = refreshReason(request.detailType);
    const source = request.account
      ? `AWS account ${request.account}, connection ${connectionId}`
      : `connection ${connectionId}`;
    const handle = await this.client.workflow.signalWithStart<typeof syncConnection, [RefreshRequest]>(
      'syncConnection',
      {
        taskQueue: this.taskQueue,
        workflowId,
        args: [{ connectionId, trigger: { reason, eventId: request.eventId } }],
        signal: refreshSignal,
        signalArgs: [request],
        typedSearchAttributes: [{ key: CONNECTION_ID, value: connectionId }],
        staticSummary: `${reason} (${source})`,
      },
    );
    return { workflowId, runId: handle.signaledRunId };
  }

  /**
   * The CloudFormation quick-create link the seller opens to create the role for this connection, with the
   * connection's external ID and the vendor's principal filled in.
   */
  async onboardingLink(connectionId: string): Promise<string> {
    if (!this.onboarding) throw new ConfigError('This client was built without MongoDB access: use connect(config)');
    const { templateUrl, vendorPrincipal, eventBusArn } = this.onboarding.settings;
    const missing = [
      ...(templateUrl ? [] : ['SELLER_TEMPLATE_URL (where deploy/seller-onboarding.yaml is published)']),
      ...(vendorPrincipal ? [] : ['VENDOR_AWS_PRINCIPAL (the account id or principal ARN the role trusts)']),
    ];
    if (!templateUrl || !vendorPrincipal) throw new ConfigError(`Onboarding links need ${missing.join(' and ')}`);
    const db = await this.onboarding.db();
    const connection = await firstForConnection(connectionId, (filter) =>
      collections(db).connections.findOne(filter, { projection: { external_id: 1 } }),
    );
    if (!connection) throw new ConnectionNotFoundError(`No connection ${connectionId}`);
    if (typeof connection.external_id !== 'string' || connection.external_id === '') {
      throw new OnboardingError(`Connection ${connectionId} has no external_id to put in the role's trust policy`);
    }
    if (!EXTERNAL_ID.test(connection.external_id)) {
      throw new OnboardingError(
        `Connection ${connectionId}'s external_id is not one STS accepts (2-1224 characters of letters, digits and +=,.@:/-)`,
      );
    }
    return onboardingQuickCreateUrl({
      templateUrl,
      vendorPrincipal,
      externalId: connection.external_id,
      connectionId,
      eventBusArn,
    });
  }

  /** Whether the Temporal frontend answers within `timeoutMs`. */
  async temporalReachable(timeoutMs = 5_000): Promise<boolean> {
    try {
      await this.client.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.client.workflowService.getSystemInfo({}),
      );
      return true;
    } catch {
      return false;
    }
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
    await this.onClose();
    await this.client.connection.close();
  }
}

export class OnboardingError extends Error {
  override name = 'OnboardingError';
}

export class ConnectionNotFoundError extends Error {
  override name = 'ConnectionNotFoundError';
}
