// Step 2 of a sync: list the seller's products of each entity type (Marketplace Catalog ListEntities, 50 per
// page). A type that outgrows the inline limit is staged in MongoDB page by page, and a long type heartbeats its
// cursor so a retry resumes where the last staged page ended. listFirstPages is the fast path (every type's first
// pages in one local activity); listEntities the patient one (one activity per type).
import { ListEntitiesCommand, type ListEntitiesCommandOutput } from '@aws-sdk/client-marketplace-catalog';
import { createHash } from 'node:crypto';
import { activityInfo, cancellationSignal, Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { normalizeSummary, type DiscoveredProduct, type RawEntitySummary } from '../domain/products.ts';
import { FailureType, syncFailure, toSyncError } from '../shared/failures.ts';
import type { ListCursor, ListEntitiesInput, ListEntitiesResult, ListFirstPagesInput } from '../shared/types.ts';
import { storeFailure } from '../store/index.ts';
import type { CatalogClientFor } from './assume-role.ts';
import {
  awsErrorName,
  catalogFailure,
  isRejectedCredentials,
  isThrottling,
  rejectedSessionFailure,
} from './aws-errors.ts';
import { CATALOG, type ActivityContext } from './deps.ts';
import { timed } from './metrics.ts';

const PAGE_SIZE = 50;
// ListEntities answers these when the account may not list a type (AWS documents that
// ProfessionalServicesProduct is not listable for every seller): skip the type, sync the rest.
const UNSUPPORTED_TYPE_ERRORS = new Set(['ValidationException', 'ResourceNotSupportedException']);

export function createListEntities(
  { deps, settings, metrics, c }: ActivityContext,
  catalogClientFor: CatalogClientFor,
) {
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
          const error = toSyncError(err);
          const final = err instanceof ApplicationFailure && err.nonRetryable;
          if (!final) log.info('Fast path interrupted; the type is listed again', { entityType, ...error });
          return { entityType, status: final ? 'failed' : 'interrupted', error };
        }
      }),
    );
  }

  return {
    listFirstPages,
    // The patient path's calls; the fast path's are timed inside listFirstPages.
    listEntities: (input: ListEntitiesInput) => timed(metrics, 'list', () => listEntities(input)),
  };
}

function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}

function paginationLoop(entityType: string, pages: number, what: string): ApplicationFailure {
  return syncFailure(
    FailureType.CatalogPaginationLoop,
    `ListEntities ${entityType} ${what} (after ${pages} pages); the type was not synced. This is an AWS-side fault: report it to AWS Marketplace seller support if it persists.`,
  );
}
