// AWS's own content of the products the reconcile's plan names (BatchDescribeEntities, 20 entities a call): a
// helper of the reconcile step, not an activity. A row's describe error is its own; the rest go on.
import {
  BatchDescribeEntitiesCommand,
  type BatchDescribeEntitiesCommandOutput,
} from '@aws-sdk/client-marketplace-catalog';
import { setTimeout as delay } from 'node:timers/promises';
import { cancellationSignal } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { detailsDocumentOf, extractDetails, type AwsDetails } from '../domain/product-details.ts';
import type { ReconcilePlan } from '../domain/reconcile-plan.ts';
import type { DocId } from '../store/index.ts';
import type { CatalogClientFor } from './assume-role.ts';
import { catalogFailure, isRejectedCredentials, isThrottling, rejectedSessionFailure } from './aws-errors.ts';
import { CATALOG, type ActivityContext } from './deps.ts';

/** BatchDescribeEntities takes at most 20 entities; a few calls at once stay under the account's quota. */
const DESCRIBE_BATCH = 20;
const DESCRIBE_CONCURRENCY = 4;
const DESCRIBE_ATTEMPTS = 4;
const DESCRIBE_BACKOFF_MS = 250;

type Described = { details: AwsDetails; modified: Date | null } | { error: { code: string; message: string } };

export interface DescribeOutcome {
  byId: Map<string, Described>;
  enriched: number;
  errors: number;
}

/** The $set each described row gets: AWS's snapshot (or the error), marked with the run that wrote it. */
export function detailsWrites(
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

export function createDescribeEntities({ deps, metrics }: ActivityContext, catalogClientFor: CatalogClientFor) {
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

  return describeEntities;
}

export type DescribeEntities = ReturnType<typeof createDescribeEntities>;
