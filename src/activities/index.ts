import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import {
  ListEntitiesCommand,
  type ListEntitiesCommandOutput,
  type MarketplaceCatalogClient,
} from '@aws-sdk/client-marketplace-catalog';
import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MongoBulkWriteError, ObjectId, type AnyBulkWriteOperation, type Db } from 'mongodb';
import { roleSessionName, validateConnection, type ValidConnection } from '../domain/connection.ts';
import { normalizeSummary, type DiscoveredProduct } from '../domain/products.ts';
import { planReconcile, type ReconcilePlan } from '../domain/reconcile-plan.ts';
import { FailureType } from '../shared/failures.ts';
import type {
  AssumedRole,
  ListCursor,
  ListEntitiesInput,
  ListFirstPagesInput,
  ListEntitiesResult,
  ReconcileInput,
  RunRef,
  SyncError,
  SyncSummary,
} from '../shared/types.ts';
import { assumeRoleFailure, awsErrorName, catalogFailure, isRejectedCredentials, isThrottling } from './aws-errors.ts';
import { noopMetrics, type SyncMetrics } from './metrics.ts';
import type { RoleSessions } from './role-sessions.ts';
import { createSyncAllActivities } from './sync-all.ts';
import { collections, connectionIdFilters, type ConnectionRecord, type DocId, type ListingRecord } from './store.ts';

export interface ActivityDeps {
  db: Db;
  sts: STSClient;
  /** Builds a Catalog client for one assumed-role session; called once per session, not per call. */
  catalogClient: (credentials: RoleCredentials) => MarketplaceCatalogClient;
  sessions: RoleSessions;
  clock: () => Date;
  metrics?: SyncMetrics;
  settings?: Partial<ActivitySettings>;
}

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface ActivitySettings {
  /** STS minimum; a sync needs minutes, and a short session limits what a leaked key could do. */
  sessionDurationSeconds: number;
  /** A type with at most this many products travels in the activity result; more are staged in MongoDB. */
  inlineProductLimit: number;
  /** Caps on the lists kept in a summary, so history and the connection document stay small. */
  summaryListLimit: number;
}

const DEFAULT_SETTINGS: ActivitySettings = {
  sessionDurationSeconds: 900,
  inlineProductLimit: 100,
  summaryListLimit: 50,
};

const PAGE_SIZE = 50;
const CATALOG = 'AWSMarketplace';
// ListEntities answers these when the account may not list a type (AWS documents that
// ProfessionalServicesProduct is not listable for every seller): skip the type, sync the rest.
const UNSUPPORTED_TYPE_ERRORS = new Set(['ValidationException', 'ResourceNotSupportedException']);

export function createActivities(deps: ActivityDeps) {
  const settings: ActivitySettings = { ...DEFAULT_SETTINGS, ...deps.settings };
  const metrics = deps.metrics ?? noopMetrics;
  const c = collections(deps.db);

  async function loadConnection(connectionId: string, sync?: ConnectionRecord['sync']): Promise<ConnectionRecord> {
    for (const filter of connectionIdFilters(connectionId)) {
      const doc = sync
        ? await c.connections.findOneAndUpdate(filter, { $set: { sync } }, { returnDocument: 'after' })
        : await c.connections.findOne(filter);
      if (doc) return doc;
    }
    throw ApplicationFailure.create({
      type: FailureType.ConnectionNotFound,
      nonRetryable: true,
      message: `Connection ${connectionId} does not exist (deleted after the sync was scheduled?)`,
    });
  }

  async function setSync(connectionId: string, fields: Record<string, unknown>): Promise<void> {
    const $set = Object.fromEntries(Object.entries(fields).map(([k, v]) => [`sync.${k}`, v]));
    for (const filter of connectionIdFilters(connectionId)) {
      const result = await c.connections.updateOne(filter, { $set });
      if (result.matchedCount > 0) return;
    }
  }

  function requireValid(doc: ConnectionRecord): ValidConnection {
    const check = validateConnection(doc);
    if (check.ok) return check.connection;
    throw ApplicationFailure.create({
      type: FailureType.InvalidConnection,
      nonRetryable: true,
      message: `Connection ${String(doc._id)} cannot be synced: ${check.problems.join('; ')}. Fix the connection and sync again.`,
    });
  }

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
      );
      metrics.awsCall('AssumeRole', 'ok');
    } catch (err) {
      metrics.awsCall('AssumeRole', isThrottling(err) ? 'throttled' : 'error');
      throw assumeRoleFailure(err, connection.roleArn);
    }
    const creds = response.Credentials;
    if (!creds?.AccessKeyId || !creds.SecretAccessKey || !creds.SessionToken) {
      throw ApplicationFailure.create({
        type: FailureType.StsUnavailable,
        message: `STS AssumeRole on ${connection.roleArn} answered without credentials`,
      });
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
  async function assumeRole(ref: RunRef): Promise<AssumedRole> {
    const doc = await loadConnection(ref.connectionId, {
      status: 'running',
      started_at: deps.clock(),
      finished_at: null,
      error: null,
      workflow_id: ref.workflowId,
      run_id: ref.runId,
    });
    const connection = requireValid(doc);
    const { expiresAt } = await openSession(connection);
    log.info('Assumed role', { connectionId: ref.connectionId, accountId: connection.accountId });
    return {
      teamId: connection.teamId,
      accountId: connection.accountId,
      roleArn: connection.roleArn,
      expiresAt: expiresAt.toISOString(),
    };
  }

  async function listEntities(input: ListEntitiesInput): Promise<ListEntitiesResult> {
    const { connectionId, entityType } = input;
    const info = activityInfo();
    const resumed = (info.heartbeatDetails as ListCursor | undefined) ?? input.resume;
    const client = await catalogClientFor(connectionId);
    const signal = info.isLocal ? undefined : cancellationSignal();

    let nextToken = resumed?.nextToken;
    let pages = resumed?.pages ?? 0;
    let count = resumed?.products ?? 0;
    const buffered: Array<{ page: number; items: DiscoveredProduct[] }> = [];
    let bufferedCount = 0;
    const invalid: string[] = [];
    // Staging starts once the type outgrows the inline limit, or at once when resuming (earlier pages
    // are already staged). Pages are keyed by number, so a retried page overwrites itself.
    let staging = resumed !== undefined;
    let pagesThisCall = 0;

    const stagePage = async (page: number, items: DiscoveredProduct[]) => {
      const _id = `${input.runId}/${entityType}/${page}`;
      const doc = { _id, run_id: input.runId, entity_type: entityType, page, items, created_at: deps.clock() };
      await c.staging.replaceOne({ _id }, doc, { upsert: true });
    };
    const stageBuffered = async () => {
      for (const { page, items } of buffered) await stagePage(page, items);
      buffered.length = 0;
      staging = true;
    };

    do {
      let response: ListEntitiesCommandOutput;
      try {
        response = await client.send(
          new ListEntitiesCommand({
            Catalog: CATALOG,
            EntityType: entityType,
            MaxResults: PAGE_SIZE,
            OwnershipType: 'SELF',
            NextToken: nextToken,
          }),
          { abortSignal: signal },
        );
        metrics.awsCall('ListEntities', 'ok');
      } catch (err) {
        metrics.awsCall('ListEntities', isThrottling(err) ? 'throttled' : 'error');
        if (pages === 0 && UNSUPPORTED_TYPE_ERRORS.has(awsErrorName(err))) {
          const reason = `AWS does not list ${entityType} for this account: ${(err as Error).message}`;
          log.warn('Entity type skipped', { connectionId, entityType, reason });
          return { entityType, status: 'skipped', reason };
        }
        if (isRejectedCredentials(err)) {
          deps.sessions.forget(connectionId);
          throw ApplicationFailure.create({
            type: FailureType.CatalogUnavailable,
            message: `AWS no longer accepts the role session for ${entityType}; the role will be assumed again`,
          });
        }
        throw catalogFailure(err, 'ListEntities', entityType);
      }

      const items: DiscoveredProduct[] = [];
      for (const raw of response.EntitySummaryList ?? []) {
        const normalized = normalizeSummary(raw, entityType);
        if (normalized.ok) items.push(normalized.product);
        else invalid.push(normalized.reason);
      }
      nextToken = response.NextToken || undefined;
      count += items.length;
      buffered.push({ page: pages, items });
      bufferedCount += items.length;
      pages += 1;
      pagesThisCall += 1;
      if (staging || bufferedCount > settings.inlineProductLimit) await stageBuffered();

      if (nextToken && !info.isLocal) heartbeat({ nextToken, pages, products: count } satisfies ListCursor);
      if (nextToken && input.maxPages !== undefined && pagesThisCall >= input.maxPages) {
        await stageBuffered();
        return { entityType, status: 'partial', cursor: { nextToken, pages, products: count }, invalid };
      }
    } while (nextToken);

    log.info('Listed entity type', { connectionId, entityType, pages, products: count, staged: staging });
    const inline = staging ? null : buffered.flatMap((b) => b.items);
    return { entityType, status: 'complete', pages, products: count, inline, invalid };
  }

  /**
   * The first pages of several types in one local activity: each type is still its own paginated
   * ListEntities sequence, but the workflow pays one activation for all of them instead of one per type.
   */
  async function listFirstPages(input: ListFirstPagesInput): Promise<ListEntitiesResult[]> {
    const { entityTypes, ...rest } = input;
    return Promise.all(entityTypes.map((entityType) => listEntities({ ...rest, entityType })));
  }

  async function reconcile(input: ReconcileInput): Promise<SyncSummary> {
    const products: DiscoveredProduct[] = [];
    let staged = false;
    for (const list of input.lists) {
      if (list.status !== 'complete') continue;
      if (list.inline) products.push(...list.inline);
      else staged = true;
    }
    if (staged) {
      const pages = await c.staging.find({ run_id: input.runId }).toArray();
      const expected = input.lists.reduce((n, l) => n + (l.status === 'complete' && !l.inline ? l.products : 0), 0);
      const found = pages.reduce((n, p) => n + p.items.length, 0);
      if (found < expected) {
        throw ApplicationFailure.create({
          type: FailureType.StagingMissing,
          nonRetryable: true,
          message: `Run ${input.runId} staged ${expected} products but only ${found} are left in sync_staging; sync again`,
        });
      }
      for (const page of pages) products.push(...page.items);
    }

    const ids = [...new Set(products.map((p) => p.entityId))];
    const listings = await c.listings
      .find(
        { team_id: input.teamId, $or: [{ entity_id: { $in: ids } }, { status: 'published', entity_id: null }] },
        { projection: { _id: 1, entity_id: 1, title: 1, status: 1, aws_visibility: 1, aws_last_modified: 1 } },
      )
      .toArray();

    const now = deps.clock();
    const plan = planReconcile({ teamId: input.teamId, connectionId: input.connectionId, products, listings, now });
    const duplicates = await applyPlan(plan);

    const limit = settings.summaryListLimit;
    const summary: SyncSummary = {
      ...plan.counts,
      matched: plan.counts.matched + duplicates,
      imported: plan.counts.imported - duplicates,
      skipped_types: input.lists.flatMap((l) =>
        l.status === 'skipped' ? [{ entity_type: l.entityType, reason: l.reason }] : [],
      ),
      ambiguous: plan.ambiguous.slice(0, limit),
      invalid_products: input.lists.flatMap((l) => (l.status === 'skipped' ? [] : l.invalid)).slice(0, limit),
    };

    await setSync(input.connectionId, { status: 'succeeded', finished_at: now, summary, error: null });
    if (staged) await c.staging.deleteMany({ run_id: input.runId });
    deps.sessions.forget(input.connectionId);

    metrics.syncFinished('succeeded');
    metrics.listingsWritten('imported', summary.imported);
    metrics.listingsWritten('updated', summary.updated);
    metrics.listingsWritten('auto_linked', summary.auto_linked);
    log.info('Reconciled', { connectionId: input.connectionId, ...plan.counts, ambiguous: plan.ambiguous.length });
    return summary;
  }

  /** Applies the plan in one unordered bulk write; returns how many imports another sync got to first. */
  async function applyPlan(plan: ReconcilePlan<DocId>): Promise<number> {
    const ops: AnyBulkWriteOperation<ListingRecord>[] = [
      ...plan.updates.map(({ _id, set }) => ({ updateOne: { filter: { _id }, update: { $set: { ...set } } } })),
      // The extra conditions keep a row the app linked meanwhile from being re-linked.
      ...plan.links.map(({ _id, set }) => ({
        updateOne: { filter: { _id, entity_id: null, status: 'published' }, update: { $set: { ...set } } },
      })),
      ...plan.inserts.map((doc) => ({ insertOne: { document: { _id: new ObjectId(), ...doc } } })),
    ];
    if (ops.length === 0) return 0;
    try {
      await c.listings.bulkWrite(ops, { ordered: false });
      return 0;
    } catch (err) {
      // Another sync of the same team (a second connection) imported the same product a moment ago.
      if (err instanceof MongoBulkWriteError) {
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        if (errors.every((e: { code?: number }) => e.code === 11000)) return errors.length;
      }
      throw err;
    }
  }

  async function recordSyncFailure(input: RunRef & { error: SyncError }): Promise<void> {
    await setSync(input.connectionId, {
      status: 'failed',
      finished_at: deps.clock(),
      error: input.error,
      workflow_id: input.workflowId,
      run_id: input.runId,
    });
    // A failed run leaves nothing behind: no session in memory, no staged pages in MongoDB.
    deps.sessions.forget(input.connectionId);
    await c.staging.deleteMany({ run_id: input.runId });
    metrics.syncFinished('failed');
    log.warn('Sync failed', { connectionId: input.connectionId, errorType: input.error.type });
  }

  return { assumeRole, listFirstPages, listEntities, reconcile, recordSyncFailure, ...createSyncAllActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
