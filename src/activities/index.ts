import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import {
  BatchDescribeEntitiesCommand,
  ListEntitiesCommand,
  type BatchDescribeEntitiesCommandOutput,
  type ListEntitiesCommandOutput,
  type MarketplaceCatalogClient,
} from '@aws-sdk/client-marketplace-catalog';
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { activityInfo, cancellationSignal, Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  MongoBulkWriteError,
  MongoError,
  ObjectId,
  type AnyBulkWriteOperation,
  type Db,
  type WriteError,
} from 'mongodb';
import { roleSessionName, validateConnection, type ValidConnection } from '../domain/connection.ts';
import { normalizeSummary, type DiscoveredProduct, type RawEntitySummary } from '../domain/products.ts';
import { detailsDocumentOf, extractDetails, type AwsDetails } from '../domain/product-details.ts';
import { planReconcile, type ReconcilePlan } from '../domain/reconcile-plan.ts';
import { failedTypeMessage, FailureType } from '../shared/failures.ts';
import type {
  AssumedRole,
  FailedType,
  ListCursor,
  ListEntitiesInput,
  ListFirstPagesInput,
  ListEntitiesResult,
  ReconcileInput,
  RunRef,
  SyncError,
  SyncPreview,
  SyncSummary,
} from '../shared/types.ts';
import {
  assumeRoleFailure,
  awsErrorName,
  catalogFailure,
  isRejectedCredentials,
  isThrottling,
  rejectedSessionFailure,
} from './aws-errors.ts';
import { Semaphore } from './semaphore.ts';
import { noopMetrics, timed, type SyncMetrics } from './metrics.ts';
import type { RoleSessions } from './role-sessions.ts';
import { createSyncAllActivities } from './sync-all.ts';
import {
  collections,
  connectionIdFilters,
  storeFailure,
  teamRowsQuery,
  type ConnectionRecord,
  type DocId,
  type ListingRecord,
} from './store.ts';

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
  /**
   * Pages one type may take before the listing counts as runaway. AWS Marketplace caps a seller at a few
   * hundred products per type (service quotas, adjustable), so 1,000 pages of 50 is far beyond any real catalog.
   */
  maxPagesPerType: number;
  /** Row updates per bulk write, and bulk writes of updates running at once in this worker (see README). */
  updateBatchSize: number;
  updateBatchConcurrency: number;
  /** How often a long listing heartbeats while it waits on AWS; the activity's heartbeat timeout is a few of these. */
  heartbeatIntervalMs: number;
}

const DEFAULT_SETTINGS: ActivitySettings = {
  sessionDurationSeconds: 900,
  inlineProductLimit: 100,
  summaryListLimit: 50,
  maxPagesPerType: 1_000,
  updateBatchSize: 90,
  updateBatchConcurrency: 4,
  heartbeatIntervalMs: 2_000,
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
  const updateSlots = new Semaphore(settings.updateBatchConcurrency);

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

  /** Writes connections.sync; false when the connection is gone. Throws unless the server acknowledged the write. */
  async function setSync(connectionId: string, fields: Record<string, unknown>): Promise<boolean> {
    const $set = Object.fromEntries(Object.entries(fields).map(([k, v]) => [`sync.${k}`, v]));
    for (const filter of connectionIdFilters(connectionId)) {
      const result = await c.connections.updateOne(filter, { $set });
      if (!result.acknowledged) throw storeFailure(`the status write of connection ${connectionId}`);
      if (result.matchedCount > 0) return true;
    }
    log.warn('Connection deleted during its sync; status not recorded', { connectionId });
    return false;
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
        { abortSignal: cancellationSignal() },
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

  async function listEntities(input: ListEntitiesInput): Promise<ListEntitiesResult> {
    const { connectionId, entityType } = input;
    const info = activityInfo();
    const resumed = (info.heartbeatDetails as ListCursor | undefined) ?? input.resume;
    const client = await catalogClientFor(connectionId);
    // Local activities are cancelled on timeout too: an abandoned attempt never leaves a request open.
    const signal = cancellationSignal();

    let nextToken = resumed?.nextToken;
    let pages = resumed?.pages ?? 0;
    let count = resumed?.products ?? 0;
    const seen = new Set(resumed?.seen ?? []);
    const cursor = (): ListCursor => ({ nextToken: nextToken ?? '', pages, products: count, seen: [...seen] });
    const buffered: Array<{ page: number; items: DiscoveredProduct[] }> = [];
    let bufferedCount = 0;
    const invalid: string[] = [];
    let invalidCount = 0;
    // Staging starts once the type outgrows the inline limit, or at once when resuming (earlier pages
    // are already staged). Pages are keyed by number, so a retried page overwrites itself.
    let staging = resumed !== undefined;
    let pagesThisCall = 0;
    const startedAt = Date.now();

    const stagePage = async (page: number, items: DiscoveredProduct[]) => {
      const _id = `${input.runId}/${entityType}/${page}`;
      const doc = { _id, run_id: input.runId, entity_type: entityType, page, items, created_at: deps.clock() };
      const result = await c.staging.replaceOne({ _id }, doc, { upsert: true });
      if (!result.acknowledged) throw storeFailure(`staging page ${page} of ${entityType}`);
    };
    const stageBuffered = async () => {
      for (const { page, items } of buffered) await stagePage(page, items);
      buffered.length = 0;
      staging = true;
    };

    // A heartbeat per page is not enough: one slow request could outlast the heartbeat timeout, which is
    // kept short so that a crashed worker costs seconds. The cursor only moves after a page is staged.
    const context = info.isLocal ? null : Context.current();
    let committed = resumed;
    const beat = context ? setInterval(() => context.heartbeat(committed), settings.heartbeatIntervalMs) : undefined;
    try {
      do {
        if (nextToken) {
          const digest = tokenDigest(nextToken);
          if (seen.has(digest))
            throw paginationLoop(entityType, pages, 'handed back a page token it had already given');
          seen.add(digest);
        }
        if (pages >= settings.maxPagesPerType) {
          throw paginationLoop(
            entityType,
            pages,
            `is still paging after ${pages} pages (${pages * PAGE_SIZE} products), beyond any real seller catalog`,
          );
        }
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
            throw rejectedSessionFailure(err, `listing ${entityType}`);
          }
          throw catalogFailure(err, 'ListEntities', entityType);
        }

        const items: DiscoveredProduct[] = [];
        const summaries: unknown = response.EntitySummaryList ?? [];
        for (const raw of Array.isArray(summaries) ? summaries : []) {
          const normalized = normalizeSummary(raw as RawEntitySummary, entityType);
          if (normalized.ok) items.push(normalized.product);
          else {
            invalidCount += 1;
            if (invalid.length < settings.summaryListLimit) invalid.push(normalized.reason);
          }
        }
        nextToken = typeof response.NextToken === 'string' && response.NextToken ? response.NextToken : undefined;
        count += items.length;
        buffered.push({ page: pages, items });
        bufferedCount += items.length;
        pages += 1;
        pagesThisCall += 1;
        if (staging || bufferedCount > settings.inlineProductLimit) await stageBuffered();

        // A retry may resume only from pages that are staged; pages held in memory die with the attempt.
        if (nextToken && context && staging) {
          committed = cursor();
          context.heartbeat(committed);
        }
        const enoughPages = input.maxPages !== undefined && pagesThisCall >= input.maxPages;
        const enoughTime = input.returnAfterMs !== undefined && Date.now() - startedAt >= input.returnAfterMs;
        if (nextToken && (enoughPages || enoughTime)) {
          await stageBuffered();
          return { entityType, status: 'partial', cursor: cursor(), invalid, invalidCount };
        }
      } while (nextToken);
    } finally {
      clearInterval(beat);
    }

    if (invalidCount > 0) log.warn('AWS summaries skipped', { connectionId, entityType, invalid: invalidCount });
    log.info('Listed entity type', { connectionId, entityType, pages, products: count, staged: staging });
    const inline = staging ? null : buffered.flatMap((b) => b.items);
    return { entityType, status: 'complete', pages, products: count, inline, invalid, invalidCount };
  }

  /**
   * The first pages of several types in one local activity: each type is still its own paginated
   * ListEntities sequence, but the workflow pays one activation for all of them instead of one per type.
   * A type's failure is its own: a transient one hands the type to the patient path, a final one fails it.
   */
  async function listFirstPages(input: ListFirstPagesInput): Promise<ListEntitiesResult[]> {
    const { entityTypes, ...rest } = input;
    return timed(metrics, 'list', () => listFirstPagesUntimed(entityTypes, rest));
  }

  async function listFirstPagesUntimed(
    entityTypes: ListFirstPagesInput['entityTypes'],
    rest: Omit<ListFirstPagesInput, 'entityTypes'>,
  ): Promise<ListEntitiesResult[]> {
    return Promise.all(
      entityTypes.map(async (entityType): Promise<ListEntitiesResult> => {
        try {
          return await listEntities({ ...rest, entityType });
        } catch (err) {
          if (cancellationSignal().aborted) throw err;
          const error = { type: failureType(err), message: (err as Error).message };
          const final = err instanceof ApplicationFailure && err.nonRetryable;
          if (!final) log.info('Fast path interrupted; the type is listed again', { entityType, ...error });
          return { entityType, status: final ? 'failed' : 'interrupted', error };
        }
      }),
    );
  }

  async function reconcile(input: ReconcileInput): Promise<SyncSummary> {
    try {
      return await reconcileOnce(input);
    } catch (err) {
      throw err instanceof MongoError ? storeFailure(`the reconcile of connection ${input.connectionId}`, err) : err;
    }
  }

  /**
   * The run's products (inline or staged), the team's relevant rows in one read, and the plan over them.
   * `recorded` is set instead when the staged pages are gone because an earlier attempt already finished.
   */
  async function planRun(
    input: ReconcileInput,
    now: Date,
  ): Promise<
    { plan: ReconcilePlan<DocId>; products: DiscoveredProduct[]; staged: boolean } | { recorded: SyncSummary }
  > {
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
        // The pages go only after this run's outcome is on the connection: if it is there, an earlier attempt
        // finished and only its completion was lost.
        const recorded = (await loadConnection(input.connectionId)).sync;
        if (recorded?.run_id === input.runId && recorded.summary && recorded.status !== 'running') {
          return { recorded: recorded.summary as SyncSummary };
        }
        throw ApplicationFailure.create({
          type: FailureType.StagingMissing,
          nonRetryable: true,
          message: `Run ${input.runId} staged ${expected} products but only ${found} are left in sync_staging; sync again`,
        });
      }
      for (const page of pages) products.push(...page.items);
    }

    const ids = [...new Set(products.map((p) => p.entityId))];
    // One read, served by an index on (team_id, …): see teamRowsQuery.
    const query = teamRowsQuery(input.teamId, input.connectionId, ids);
    const listings = await c.listings.find(query.filter, { projection: query.projection }).toArray();

    const plan = planReconcile({
      teamId: input.teamId,
      connectionId: input.connectionId,
      runId: input.runId,
      completeTypes: input.lists.flatMap((l) => (l.status === 'complete' ? [l.entityType] : [])),
      newId: () => new ObjectId(),
      products,
      listings,
      now,
    });
    return { plan, products, staged };
  }

  async function reconcileOnce(input: ReconcileInput): Promise<SyncSummary> {
    const now = deps.clock();
    const planned = await timed(metrics, 'reconcile_read', () => planRun(input, now));
    if ('recorded' in planned) return planned.recorded;
    const { plan, staged } = planned;
    const details = await timed(metrics, 'describe', () => describeEntities(input.connectionId, plan.describe));
    const writesStarted = performance.now();
    const lost = await applyPlan(plan, detailsWrites(plan, details, input.runId, now), now);

    const limit = settings.summaryListLimit;
    const failedTypes: FailedType[] = input.lists.flatMap((l) =>
      l.status === 'failed' || l.status === 'interrupted'
        ? [{ entity_type: l.entityType, type: l.error.type, message: l.error.message }]
        : [],
    );
    const summary: SyncSummary = {
      ...plan.counts,
      matched: plan.counts.matched + lost.imports + lost.links,
      auto_linked: plan.counts.auto_linked - lost.links,
      imported: plan.counts.imported - lost.imports,
      skipped_types: input.lists.flatMap((l) =>
        l.status === 'skipped' ? [{ entity_type: l.entityType, reason: l.reason }] : [],
      ),
      failed_types: failedTypes,
      enriched: plan.describedEarlier.enriched + details.enriched - lost.imports,
      enrich_errors: plan.describedEarlier.errors + details.errors,
      missing: plan.missing.length,
      ambiguous: plan.ambiguous.slice(0, limit),
      invalid: input.lists.reduce((n, l) => n + (l.status === 'complete' ? l.invalidCount : 0), 0),
      invalid_products: input.lists.flatMap((l) => (l.status === 'complete' ? l.invalid : [])).slice(0, limit),
    };

    const [firstFailure] = failedTypes;
    await setSync(input.connectionId, {
      status: firstFailure ? 'failed' : 'succeeded',
      finished_at: now,
      summary,
      error: firstFailure ? { type: firstFailure.type, message: failedTypeMessage(firstFailure) } : null,
      workflow_id: input.workflowId,
      run_id: input.runId,
    });
    // Only now that the outcome is recorded may the staged pages go (see above); a crash before this line
    // leaves them to the age sweep.
    if (staged) await c.staging.deleteMany({ run_id: input.runId });
    deps.sessions.forget(input.connectionId);
    metrics.stepSeconds('reconcile_write', (performance.now() - writesStarted) / 1000);

    metrics.syncFinished(firstFailure ? 'failed' : 'succeeded');
    metrics.listingsWritten('imported', summary.imported);
    metrics.listingsWritten('updated', summary.updated);
    metrics.listingsWritten('auto_linked', summary.auto_linked);
    log.info('Reconciled', {
      connectionId: input.connectionId,
      total_aws: summary.total_aws,
      matched: summary.matched,
      updated: summary.updated,
      auto_linked: summary.auto_linked,
      imported: summary.imported,
      ambiguous: plan.ambiguous.length,
      failedTypes: failedTypes.map((f) => f.entity_type),
    });
    return summary;
  }

  /**
   * Applies the plan. Inserts go in one unordered bulk write; row updates in batches (FerretDB stalls on
   * large or many concurrent update batches). Returns the imports and links another sync of the same team
   * got to first: only a per-document duplicate-key error means that; any other error, including a bulk
   * error without write errors (the connection died mid-write), is thrown and the reconcile retried.
   */
  async function applyPlan(
    plan: ReconcilePlan<DocId>,
    details: Map<string, Record<string, unknown>>,
    now: Date,
  ): Promise<{ imports: number; links: number }> {
    const lost = { imports: 0, links: 0 };
    // A row's details ride along with the write the plan makes to it anyway: one write per row.
    const take = (id: DocId) => {
      const set = details.get(String(id));
      details.delete(String(id));
      return set ?? {};
    };
    const inserts: AnyBulkWriteOperation<ListingRecord>[] = plan.inserts.map((doc) => ({
      insertOne: { document: { ...doc, ...seedContent(details.get(String(doc._id))), ...take(doc._id) } },
    }));
    lost.imports = await bulkWriteCountingDuplicates(inserts);

    const update = (_id: DocId, set: object) => ({ updateOne: { filter: { _id }, update: { $set: { ...set } } } });
    const rowUpdates = plan.updates.map(({ _id, set }) => update(_id, { ...set, ...take(_id) }));
    const links = plan.links.map(({ _id, set }) => ({
      // The extra conditions keep a row the app linked meanwhile from being re-linked.
      updateOne: { filter: { _id, entity_id: null, status: 'published' }, update: { $set: { ...set, ...take(_id) } } },
    }));
    const updates: AnyBulkWriteOperation<ListingRecord>[] = [
      ...rowUpdates,
      ...plan.describe.flatMap(({ _id }) => (details.has(String(_id)) ? [update(_id, take(_id))] : [])),
      ...plan.missing.filter((m) => !m.alreadyFlagged).map(({ _id }) => update(_id, { aws_missing_since: now })),
      ...links,
    ];
    const firstLink = updates.length - links.length;
    for (let i = 0; i < updates.length; i += settings.updateBatchSize) {
      const batch = updates.slice(i, i + settings.updateBatchSize);
      const duplicates = await updateSlots.run(() => bulkWriteCountingDuplicates(batch, i, firstLink));
      lost.links += duplicates;
    }
    return lost;
  }

  /**
   * AWS's details of the rows that need them, at most 20 entities per BatchDescribeEntities call. Per-entity
   * errors are the row's own; a failed call fails the attempt (retried; the plan is made again).
   */
  async function describeEntities(
    connectionId: string,
    requests: ReconcilePlan<DocId>['describe'],
  ): Promise<DescribeOutcome> {
    const outcome: DescribeOutcome = { byId: new Map(), enriched: 0, errors: 0 };
    if (requests.length === 0) return outcome;
    const client = await catalogClientFor(connectionId);
    const signal = cancellationSignal();
    const chunks: Array<typeof requests> = [];
    for (let i = 0; i < requests.length; i += DESCRIBE_BATCH) chunks.push(requests.slice(i, i + DESCRIBE_BATCH));
    let next = 0;
    /**
     * One chunk, retried a few times in place: a chunk that still fails is recorded as an error on its rows
     * (described again at the next sync) rather than failing the reconcile, so one throttled call never
     * throws away the others' work.
     */
    const send = async (chunk: typeof requests): Promise<BatchDescribeEntitiesCommandOutput | ApplicationFailure> => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const response = await client.send(
            new BatchDescribeEntitiesCommand({
              EntityRequestList: chunk.map((r) => ({ Catalog: CATALOG, EntityId: r.entityId })),
            }),
            { abortSignal: signal },
          );
          metrics.awsCall('BatchDescribeEntities', 'ok');
          return response;
        } catch (err) {
          metrics.awsCall('BatchDescribeEntities', isThrottling(err) ? 'throttled' : 'error');
          if (signal.aborted) throw err;
          // Thrown, not recorded on the rows: the reconcile is retried and its next attempt assumes the role again.
          if (isRejectedCredentials(err)) {
            deps.sessions.forget(connectionId);
            throw rejectedSessionFailure(err, `describing ${chunk.length} products`);
          }
          const failure = catalogFailure(err, 'BatchDescribeEntities', `(${chunk.length} products)`);
          if (failure.nonRetryable || attempt >= DESCRIBE_ATTEMPTS) return failure;
          await delay(DESCRIBE_BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal });
        }
      }
    };
    const worker = async () => {
      for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) {
        const response = await send(chunk);
        if (response instanceof ApplicationFailure) {
          for (const request of chunk) {
            outcome.byId.set(String(request._id), {
              error: { code: response.type ?? 'Error', message: response.message },
            });
            outcome.errors += 1;
          }
          continue;
        }
        for (const request of chunk) {
          const entity = response.EntityDetails?.[request.entityId];
          const error = response.Errors?.[request.entityId];
          if (entity) {
            outcome.byId.set(String(request._id), {
              details: extractDetails(detailsDocumentOf(entity)),
              modified: typeof entity.LastModifiedDate === 'string' ? new Date(entity.LastModifiedDate) : null,
            });
            outcome.enriched += 1;
          } else {
            outcome.byId.set(String(request._id), {
              error: {
                code: error?.ErrorCode ?? 'Missing',
                message: error?.ErrorMessage ?? 'AWS returned neither details nor an error for this entity',
              },
            });
            outcome.errors += 1;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DESCRIBE_CONCURRENCY, chunks.length) }, worker));
    return outcome;
  }

  /** How many operations (at or after `countFrom` in the caller's numbering) failed only as duplicates. */
  async function bulkWriteCountingDuplicates(
    ops: AnyBulkWriteOperation<ListingRecord>[],
    offset = 0,
    countFrom = 0,
  ): Promise<number> {
    if (ops.length === 0) return 0;
    try {
      const result = await c.listings.bulkWrite(ops, { ordered: false });
      if (!result.isOk()) throw storeFailure('a bulk write of listings');
      return 0;
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const raw: WriteError | readonly WriteError[] = err.writeErrors;
      const errors: readonly WriteError[] = isWriteErrorList(raw) ? raw : [raw];
      if (errors.length === 0 || !errors.every((e) => e.code === 11000)) throw err;
      return errors.filter((e) => e.index + offset >= countFrom).length;
    }
  }

  /** What a sync would do, from the same plan, writing nothing to listings or connections. */
  async function previewReconcile(input: ReconcileInput): Promise<SyncPreview> {
    const planned = await planRun(input, deps.clock());
    if ('recorded' in planned) throw new Error('a preview never records an outcome');
    const { plan, products, staged } = planned;
    // The role session stays: a sync of the same connection may be using it right now.
    if (staged) await c.staging.deleteMany({ run_id: input.runId });
    const names = new Map(products.map((p) => [p.entityId, p.name]));
    const titles = new Map(
      (
        await c.listings
          .find({ _id: { $in: [...plan.updates, ...plan.missing].map((r) => r._id) } }, { projection: { title: 1 } })
          .toArray()
      ).map((r) => [String(r._id), typeof r.title === 'string' ? r.title : String(r._id)]),
    );
    const first = (items: string[]) => items.slice(0, PREVIEW_TITLES);
    return {
      total_aws: plan.counts.total_aws,
      would: {
        update: plan.counts.updated,
        link: plan.counts.auto_linked,
        import: plan.counts.imported,
        flag_missing: plan.missing.length,
        describe: plan.describe.length,
      },
      titles: {
        update: first(plan.updates.map((u) => titles.get(String(u._id)) ?? String(u._id))),
        link: first(plan.links.map((l) => names.get(l.set.entity_id) ?? l.set.entity_id)),
        import: first(plan.inserts.map((i) => i.title)),
        flag_missing: first(plan.missing.map((m) => titles.get(String(m._id)) ?? String(m._id))),
      },
      ambiguous: plan.ambiguous.slice(0, settings.summaryListLimit),
      skipped_types: input.lists.flatMap((l) =>
        l.status === 'skipped' ? [{ entity_type: l.entityType, reason: l.reason }] : [],
      ),
      failed_types: input.lists.flatMap((l) =>
        l.status === 'failed' || l.status === 'interrupted'
          ? [{ entity_type: l.entityType, type: l.error.type, message: l.error.message }]
          : [],
      ),
    };
  }

  /** A preview that ends early leaves no staged pages behind (and, like a finished one, keeps the session). */
  async function discardStaging(input: { runId: string; connectionId: string }): Promise<void> {
    await c.staging.deleteMany({ run_id: input.runId });
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
    log.warn('Sync failed', {
      connectionId: input.connectionId,
      errorType: input.error.type,
      errorMessage: input.error.message,
    });
  }

  return {
    assumeRole,
    listFirstPages,
    // The patient path's calls; the fast path's are timed inside listFirstPages.
    listEntities: (input: ListEntitiesInput) => timed(metrics, 'list', () => listEntities(input)),
    reconcile,
    previewReconcile,
    discardStaging,
    recordSyncFailure,
    ...createSyncAllActivities(deps),
  };
}

const PREVIEW_TITLES = 50;

/** BatchDescribeEntities takes at most 20 entities; a few calls at once stay under the account's quota. */
const DESCRIBE_BATCH = 20;
const DESCRIBE_CONCURRENCY = 4;
const DESCRIBE_ATTEMPTS = 4;
const DESCRIBE_BACKOFF_MS = 250;

type Described = { details: AwsDetails; modified: Date | null } | { error: { code: string; message: string } };

interface DescribeOutcome {
  byId: Map<string, Described>;
  enriched: number;
  errors: number;
}

/** The $set each described row gets: AWS's snapshot (or the error), marked with the run that wrote it. */
function detailsWrites(
  plan: ReconcilePlan<DocId>,
  outcome: DescribeOutcome,
  runId: string,
  now: Date,
): Map<string, Record<string, unknown>> {
  const writes = new Map<string, Record<string, unknown>>();
  for (const request of plan.describe) {
    const described = outcome.byId.get(String(request._id));
    if (!described) continue;
    writes.set(
      String(request._id),
      'error' in described
        ? { aws_details_error: { ...described.error, run_id: runId, at: now } }
        : {
            aws_details: described.details,
            aws_details_synced_at: now,
            aws_details_modified: described.modified ?? request.lastModified,
            aws_details_run_id: runId,
            aws_details_error: null,
          },
    );
  }
  return writes;
}

/**
 * What a new row starts with from AWS's copy, in the app's own fields. Written on insert only: afterwards
 * these fields are the seller's, and only aws_details follows AWS.
 */
function seedContent(write: Record<string, unknown> | undefined): Record<string, unknown> {
  const details = write?.aws_details as AwsDetails | undefined;
  if (!details) return {};
  return {
    short_description: details.short_description,
    long_description: details.long_description,
    highlights: details.highlights,
    categories: details.categories,
    search_keywords: details.search_keywords,
    logo_url: details.logo_url,
  };
}

function isWriteErrorList(value: WriteError | readonly WriteError[]): value is readonly WriteError[] {
  return Array.isArray(value);
}

function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}

function paginationLoop(entityType: string, pages: number, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.CatalogPaginationLoop,
    nonRetryable: true,
    message: `ListEntities ${entityType} ${what} (after ${pages} pages); the type was not synced. This is an AWS-side fault: report it to AWS Marketplace seller support if it persists.`,
  });
}

function failureType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'Error';
  return (err as Error | null)?.name ?? 'Error';
}

export type Activities = ReturnType<typeof createActivities>;
