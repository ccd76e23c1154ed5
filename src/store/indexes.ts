import type { Db } from 'mongodb';
import { collections } from './records.ts';

export interface IndexReport {
  uniqueLinkedListing: 'partial' | 'plain';
}

/**
 * Linked rows must be unique per (team_id, entity_id) so concurrent syncs of one team can never import a
 * product twice. MongoDB gets a partial index (unlinked rows have no entity_id and must not collide);
 * FerretDB has no partial indexes, but there a document missing the field never collides, so the plain
 * unique index behaves the same for our rows.
 */
export async function ensureIndexes(db: Db): Promise<IndexReport> {
  const c = collections(db);
  let uniqueLinkedListing: IndexReport['uniqueLinkedListing'] = 'partial';
  try {
    await c.listings.createIndex(
      { team_id: 1, entity_id: 1 },
      { name: 'team_entity_unique', unique: true, partialFilterExpression: { entity_id: { $type: 'string' } } },
    );
  } catch (err) {
    if (!isNotImplemented(err)) throw err;
    uniqueLinkedListing = 'plain';
    await c.listings.createIndex({ team_id: 1, entity_id: 1 }, { name: 'team_entity_unique', unique: true });
  }
  await c.listings.createIndex({ team_id: 1, status: 1 }, { name: 'team_status' });
  await c.staging.createIndex({ run_id: 1 }, { name: 'run' });
  await c.connections.createIndex({ provider: 1 }, { name: 'provider' });
  // The event poller finds a batch's connections by account: the recorded account id, or the role ARN's prefix.
  // With both indexed, MongoDB answers the $or from two index scans instead of every AWS connection.
  await c.connections.createIndex({ aws_account_id: 1 }, { name: 'aws_account' });
  await c.connections.createIndex({ iam_role_arn: 1 }, { name: 'iam_role_arn' });
  return { uniqueLinkedListing };
}

function isNotImplemented(err: unknown): boolean {
  const e = err as { code?: number; codeName?: string; message?: string };
  return (
    e.code === 238 ||
    e.codeName === 'NotImplemented' ||
    /not ?implemented|partialFilterExpression/i.test(e.message ?? '')
  );
}
