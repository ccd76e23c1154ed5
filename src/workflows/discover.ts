// Discover: assume the seller's role and list the products of every entity type — the first steps of a sync and of
// a preview alike. Deterministic: used by the workflows only.
import { isCancellation, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { ENTITY_TYPES, type EntityType } from '../domain/entity-types.ts';
import { FailureType } from '../shared/failures.ts';
import type { AssumedRole, ListEntitiesResult, RunRef } from '../shared/types.ts';
import { assumeRoleOptions, LISTING_CALL_MS, listingFastPath, listingPages } from './activity-options.ts';
import { describeFailure, step } from './step-failure.ts';

const assumer = proxyLocalActivities<Activities>(assumeRoleOptions);
const fastPath = proxyLocalActivities<Activities>(listingFastPath);
const morePages = proxyActivities<Activities>(listingPages);

/** Pages each type may fetch inside the workflow task before handing over to a heartbeating activity. */
const FAST_PATH_PAGES = 2;

/** Marks the sync running (not for a preview), validates the connection and assumes its role. */
export function assumeRole(ref: RunRef, opts: { preview?: boolean } = {}): Promise<AssumedRole> {
  const summary = opts.preview
    ? `Assume the seller's role for a preview of ${ref.connectionId}`
    : `Assume the seller's role for connection ${ref.connectionId}`;
  return step(FailureType.StsUnavailable, () =>
    assumer.assumeRole.executeWithOptions({ ...assumeRoleOptions, summary }, [
      opts.preview ? { ...ref, preview: true } : ref,
    ]),
  );
}

/**
 * Every type, listed to its end: the first pages of all of them in one local activity, the rest of each (or all of
 * a type the fast path could not list) on the patient path. `onListed` sees each type's result as it arrives.
 */
export async function listAllTypes(
  ref: RunRef,
  accountId: string,
  onListed: (result: ListEntitiesResult) => void = () => undefined,
): Promise<ListEntitiesResult[]> {
  const firstPages = await listFirstPages(ref.connectionId, ref.runId, accountId);
  return Promise.all(
    ENTITY_TYPES.map(async (entityType, i) => {
      const result = await listType(ref, entityType, accountId, firstPages?.[i]);
      onListed(result);
      return result;
    }),
  );
}

/**
 * Every type's first pages in one local activity. Most sellers have fewer than 100 products per type, so
 * this is usually the whole listing; undefined sends every type down the patient path.
 */
async function listFirstPages(
  connectionId: string,
  runId: string,
  accountId: string,
): Promise<ListEntitiesResult[] | undefined> {
  try {
    return await fastPath.listFirstPages.executeWithOptions(
      { ...listingFastPath, summary: `List ${ENTITY_TYPES.join(', ')} for ${accountId}` },
      [{ connectionId, runId, entityTypes: [...ENTITY_TYPES], maxPages: FAST_PATH_PAGES }],
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.info('Fast path failed; listing every type on the patient path', { connectionId, error: err });
    return undefined;
  }
}

/**
 * The rest of a type's pages (or all of them after a fast-path interruption), a heartbeating activity per
 * minute of listing. A failure after the retry budget fails this type only.
 */
async function listType(
  ref: RunRef,
  entityType: EntityType,
  accountId: string,
  fast: ListEntitiesResult | undefined,
): Promise<ListEntitiesResult> {
  let result = fast;
  const invalid: string[] = [];
  let invalidCount = 0;
  try {
    while (!result || result.status === 'partial' || result.status === 'interrupted') {
      const resume = result?.status === 'partial' ? result.cursor : undefined;
      if (result?.status === 'partial') {
        invalid.push(...result.invalid);
        invalidCount += result.invalidCount;
      }
      result = await morePages.listEntities.executeWithOptions(
        {
          ...listingPages,
          summary: resume
            ? `List ${entityType} for ${accountId} from page ${resume.pages + 1}`
            : `List ${entityType} for ${accountId}`,
        },
        [{ connectionId: ref.connectionId, runId: ref.runId, entityType, resume, returnAfterMs: LISTING_CALL_MS }],
      );
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { entityType, status: 'failed', error: describeFailure(err, FailureType.CatalogUnavailable) };
  }
  if (result.status !== 'complete' || invalidCount === 0) return result;
  return { ...result, invalid: [...invalid, ...result.invalid], invalidCount: invalidCount + result.invalidCount };
}
