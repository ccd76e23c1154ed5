// Step 1 of a sync: mark it running, validate the connection and assume the seller's role (STS AssumeRole with
// the connection's external ID). The session's credentials stay in this worker's memory (role-sessions.ts); the
// workflow gets no secret. catalogClientFor gives the listing and describe steps a client on that session.
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { MarketplaceCatalogClient } from '@aws-sdk/client-marketplace-catalog';
import { cancellationSignal, log } from '@temporalio/activity';
import { roleSessionName, type ValidConnection } from '../domain/connection.ts';
import { FailureType, syncFailure } from '../shared/failures.ts';
import type { AssumedRole, RunRef } from '../shared/types.ts';
import { assumeRoleFailure, isThrottling } from './aws-errors.ts';
import { requireValid, type ConnectionRecords } from './connection-record.ts';
import type { ActivityContext } from './deps.ts';
import { timed } from './metrics.ts';

export function createAssumeRole({ deps, settings, metrics }: ActivityContext, { loadConnection }: ConnectionRecords) {
  async function openSession(connection: ValidConnection): Promise<{ expiresAt: Date }> {
    let response;
    try {
      response = await deps.sts.send(
        new AssumeRoleCommand({
          RoleArn: connection.roleArn,
          ExternalId: connection.externalId,
          RoleSessionName: roleSessionName(connection.connectionId),
          DurationSeconds: settings.sessionDurationSeconds,
        }),
        { abortSignal: cancellationSignal() },
      );
      metrics.awsCall('AssumeRole', 'ok');
    } catch (err) {
      metrics.awsCall('AssumeRole', isThrottling(err) ? 'throttled' : 'error');
      throw assumeRoleFailure(err, connection.roleArn);
    }
    const creds = response.Credentials;
    if (!creds?.AccessKeyId || !creds.SecretAccessKey || !creds.SessionToken) {
      throw syncFailure(
        FailureType.StsUnavailable,
        `STS AssumeRole on ${connection.roleArn} answered without credentials`,
      );
    }
    const expiresAt = creds.Expiration ?? new Date(deps.clock().getTime() + settings.sessionDurationSeconds * 1000);
    deps.sessions.put(connection.connectionId, {
      accountId: connection.accountId,
      expiresAt: expiresAt.getTime(),
      client: deps.catalogClient({
        accessKeyId: creds.AccessKeyId,
        secretAccessKey: creds.SecretAccessKey,
        sessionToken: creds.SessionToken,
        expiration: expiresAt,
      }),
    });
    return { expiresAt };
  }

  async function catalogClientFor(connectionId: string): Promise<MarketplaceCatalogClient> {
    const cached = deps.sessions.get(connectionId);
    if (cached) return cached.client;
    // Another worker assumed the role, or this one restarted: assume it again rather than pass secrets around.
    log.info('No cached role session; assuming the role again', { connectionId });
    const connection = requireValid(await loadConnection(connectionId));
    await openSession(connection);
    const session = deps.sessions.get(connectionId);
    if (!session) throw new Error(`Role session for ${connectionId} expired as soon as it was created`);
    return session.client;
  }

  /** Marks the sync running, validates the connection and assumes its role; returns no secrets. */
  async function assumeRole(ref: RunRef & { preview?: boolean }): Promise<AssumedRole> {
    // A preview writes nothing to connections, not even its sync status.
    const doc = ref.preview
      ? await loadConnection(ref.connectionId)
      : await loadConnection(ref.connectionId, {
          status: 'running',
          started_at: deps.clock(),
          finished_at: null,
          error: null,
          workflow_id: ref.workflowId,
          run_id: ref.runId,
        });
    const connection = requireValid(doc);
    const { expiresAt } = await timed(metrics, 'assume_role', () => openSession(connection));
    log.info('Assumed role', { connectionId: ref.connectionId, accountId: connection.accountId });
    return {
      teamId: connection.teamId,
      accountId: connection.accountId,
      roleArn: connection.roleArn,
      expiresAt: expiresAt.toISOString(),
    };
  }

  return { assumeRole, catalogClientFor };
}

export type CatalogClientFor = ReturnType<typeof createAssumeRole>['catalogClientFor'];
