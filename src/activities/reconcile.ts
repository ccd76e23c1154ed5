// Step 3 of a sync: reconcile what AWS listed into the team's listings in one read and batched writes (pass 1
// updates rows by entity_id, pass 2 links unlinked published rows by title, pass 3 imports the rest), with AWS's
// details for the rows that need them and rows gone from AWS flagged; then the outcome on connections.sync. The
// plan itself is pure (domain/reconcile-plan.ts); this file reads, describes and writes.
import { log } from '@temporalio/activity';
import { MongoBulkWriteError, MongoError, ObjectId, type AnyBulkWriteOperation, type WriteError } from 'mongodb';
import type { DiscoveredProduct } from '../domain/products.ts';
import type { AwsDetails } from '../domain/product-details.ts';
import { planReconcile, type ReconcilePlan } from '../domain/reconcile-plan.ts';
import { typeOutcomes } from '../shared/type-outcomes.ts';
import { failedTypeMessage, FailureType, syncFailure } from '../shared/failures.ts';
import type { ReconcileInput, SyncSummary } from '../shared/types.ts';
import { storeFailure, teamRowsQuery, type DocId, type ListingRecord } from '../store/index.ts';
import type { ConnectionRecords } from './connection-record.ts';
import type { ActivityContext } from './deps.ts';
import { detailsWrites, type DescribeEntities } from './describe-entities.ts';
import { timed } from './metrics.ts';

export function createReconcile(
  { deps, settings, metrics, c, updateSlots }: ActivityContext,
  { loadConnection, setSync }: ConnectionRecords,
  describeEntities: DescribeEntities,
) {
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
        throw syncFailure(
          FailureType.StagingMissing,
          `Run ${input.runId} staged ${expected} products but only ${found} are left in sync_staging; sync again`,
        );
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
    const { skipped_types, failed_types: failedTypes } = typeOutcomes(input.lists);
    const summary: SyncSummary = {
      ...plan.counts,
      matched: plan.counts.matched + lost.imports + lost.links,
      auto_linked: plan.counts.auto_linked - lost.links,
      imported: plan.counts.imported - lost.imports,
      skipped_types,
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

  return { reconcile, planRun };
}

export type PlanRun = ReturnType<typeof createReconcile>['planRun'];

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
