import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities/index.ts';
import { ENTITY_TYPES, type EntityType } from '../../src/domain/entity-types.ts';
import type { AssumedRole, ListEntitiesResult, SyncSummary } from '../../src/shared/types.ts';
import { uniqueTaskQueue, workflowBundle } from '../helpers/stack.ts';

/**
 * The real workflows on the dev server with stub activities registered under the activities' names: no AWS, no
 * MongoDB. The worker is unversioned, on a task queue of its own, so no deployment needs promoting.
 */
export async function withStubWorker<T>(
  name: string,
  activities: Partial<Activities>,
  fn: (ctx: { client: Client; taskQueue: string }) => Promise<T>,
): Promise<T> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('run the workflow tests through scripts/test.sh (they need the Temporal dev server)');
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const taskQueue = uniqueTaskQueue(name);
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });
    const client = new Client({ connection, namespace });
    return await worker.runUntil(fn({ client, taskQueue }));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

export function role(connectionId: string): AssumedRole {
  return {
    teamId: `team-${connectionId}`,
    accountId: '123456789012',
    roleArn: 'arn:aws:iam::123456789012:role/ListingSync',
    expiresAt: new Date(Date.now() + 900_000).toISOString(),
  };
}

/** Every type listed in full on the fast path, with `products` products of SaaSProduct. */
export function listed(products = 0, overrides: Partial<Record<EntityType, ListEntitiesResult>> = {}) {
  return ENTITY_TYPES.map(
    (entityType): ListEntitiesResult =>
      overrides[entityType] ?? {
        entityType,
        status: 'complete',
        pages: 1,
        products: entityType === 'SaaSProduct' ? products : 0,
        inline: [],
        invalid: [],
        invalidCount: 0,
      },
  );
}

export function summary(imported: number, extra: Partial<SyncSummary> = {}): SyncSummary {
  return {
    total_aws: imported,
    matched: 0,
    updated: 0,
    auto_linked: 0,
    imported,
    skipped_types: [],
    failed_types: [],
    enriched: imported,
    enrich_errors: 0,
    missing: 0,
    ambiguous: [],
    invalid: 0,
    invalid_products: [],
    ...extra,
  };
}

/** A promise and the function that resolves it: a gate a stub waits at until the test opens it. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** A synchronous stub as the async activity function the worker registers. */
export function stub<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<R> {
  return (...args: A) => Promise.resolve(fn(...args));
}
