import { catalogTypeFor, type CatalogType, type EntityType } from './entity-types.ts';
import { normalizeTitle, type DiscoveredProduct } from './products.ts';
import { importStatusFor } from './visibility.ts';

/** The fields of a listing row the reconcile reads; every other field belongs to the app. */
export interface ExistingListing<Id = unknown> {
  _id: Id;
  entity_id?: string | null;
  title?: string | null;
  status?: string | null;
  aws_visibility?: string | null;
  aws_last_modified?: Date | null;
  last_sync_run_id?: string | null;
  last_sync_action?: string | null;
  connection_id?: string | null;
  catalog_type?: string | null;
  aws_missing_since?: Date | null;
  /** When AWS's details were last stored, and the LastModifiedDate of the revision they describe. */
  aws_details_synced_at?: Date | null;
  aws_details_modified?: Date | null;
  aws_details_run_id?: string | null;
  aws_details_error?: { run_id?: string } | null;
}

/**
 * What the run that last wrote a row did to it. Every write carries its run id, so a reconcile that runs
 * again in the same run (its completion was lost to a crash) recognises its own writes and counts them as
 * they were first counted, instead of as matches.
 */
export type SyncAction = 'imported' | 'updated' | 'auto_linked';

interface RunMark<A extends SyncAction> {
  last_sync_run_id: string;
  last_sync_action: A;
}

interface AwsMetadata {
  aws_visibility: string;
  aws_last_modified: Date | null;
  last_synced_at: Date;
  /** Listed (again): a row flagged as gone from AWS is un-flagged. */
  aws_missing_since: null;
}

export interface AwsMetadataSet extends AwsMetadata, RunMark<'updated'> {}

export interface LinkSet extends AwsMetadata, RunMark<'auto_linked'> {
  entity_id: string;
  catalog_type: CatalogType;
}

export interface NewListing<Id = unknown> extends RunMark<'imported'> {
  _id: Id;
  team_id: string;
  connection_id: string;
  entity_id: string;
  title: string;
  catalog_type: CatalogType;
  aws_visibility: string;
  aws_last_modified: Date | null;
  status: 'published' | 'complete';
  published_at: Date | null;
  last_synced_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface AmbiguousTitle {
  title: string;
  listing_ids: string[];
  entity_ids: string[];
}

export interface ReconcileCounts {
  total_aws: number;
  matched: number;
  updated: number;
  auto_linked: number;
  imported: number;
}

/** A row whose stored AWS details are not of the product's current revision (or that has none). */
export interface DescribeRequest<Id> {
  _id: Id;
  entityId: string;
  lastModified: Date | null;
}

export interface ReconcilePlan<Id = unknown> {
  updates: Array<{ _id: Id; set: AwsMetadataSet }>;
  links: Array<{ _id: Id; set: LinkSet }>;
  inserts: NewListing<Id>[];
  describe: DescribeRequest<Id>[];
  /** Rows of this connection whose product was not listed although its type was listed completely. */
  missing: Array<{ _id: Id; alreadyFlagged: boolean }>;
  /** Rows an earlier attempt of this run already described, or failed to describe. */
  describedEarlier: { enriched: number; errors: number };
  ambiguous: AmbiguousTitle[];
  counts: ReconcileCounts;
}

export interface PlanInput<Id> {
  teamId: string;
  connectionId: string;
  /** The workflow run this reconcile belongs to; rows already marked with it were written by an earlier attempt. */
  runId: string;
  /** Types listed completely in this run: only their rows can be flagged as gone from AWS. */
  completeTypes: readonly EntityType[];
  newId: () => Id;
  products: readonly DiscoveredProduct[];
  /** The team's rows that are linked to one of `products`, or published and unlinked. Others are ignored. */
  listings: readonly ExistingListing<Id>[];
  now: Date;
}

/**
 * The seed's three passes as a pure function. It decides every write up front so the activity can
 * apply them in one bulk write, and so a re-run over an unchanged catalog plans no writes at all.
 */
export function planReconcile<Id>(input: PlanInput<Id>): ReconcilePlan<Id> {
  const { now, runId } = input;
  const describedEarlier = { enriched: 0, errors: 0 };
  const describe: DescribeRequest<Id>[] = [];
  /** Queues a row for BatchDescribeEntities unless its details are current or this run already tried. */
  const needsDetails = (row: ExistingListing<Id>, product: DiscoveredProduct) => {
    if (row.aws_details_run_id === runId) describedEarlier.enriched += 1;
    else if (row.aws_details_error?.run_id === runId) describedEarlier.errors += 1;
    else if (!(row.aws_details_synced_at instanceof Date) || !sameTime(row.aws_details_modified, product.lastModified))
      describe.push({ _id: row._id, entityId: product.entityId, lastModified: toDate(product.lastModified) });
  };
  const products = dedupeByEntityId(input.products);
  const byEntityId = new Map<string, ExistingListing<Id>[]>();
  const unlinkedPublished: ExistingListing<Id>[] = [];
  for (const row of input.listings) {
    if (row.entity_id) {
      const rows = byEntityId.get(row.entity_id);
      if (rows) rows.push(row);
      else byEntityId.set(row.entity_id, [row]);
    } else if (row.status === 'published' && typeof row.title === 'string') {
      unlinkedPublished.push(row);
    }
  }

  const plan: ReconcilePlan<Id> = {
    updates: [],
    links: [],
    inserts: [],
    describe,
    missing: [],
    describedEarlier,
    ambiguous: [],
    counts: { total_aws: products.length, matched: 0, updated: 0, auto_linked: 0, imported: 0 },
  };

  // Pass 1: update existing rows, and only the ones whose AWS metadata moved.
  const unmatched: DiscoveredProduct[] = [];
  for (const product of products) {
    const rows = byEntityId.get(product.entityId);
    if (!rows) {
      unmatched.push(product);
      continue;
    }
    const set = metadataSet(product, now, runId);
    const done = rows.find((row) => row.last_sync_run_id === runId);
    const changedRows = rows.filter((row) => row !== done && metadataChanged(row, set));
    for (const row of changedRows) plan.updates.push({ _id: row._id, set });
    for (const row of rows) needsDetails(row, product);
    const action = done?.last_sync_action ?? (changedRows.length > 0 ? 'updated' : null);
    if (action === 'imported') plan.counts.imported += 1;
    else if (action === 'auto_linked') plan.counts.auto_linked += 1;
    else {
      plan.counts.matched += 1;
      if (action === 'updated') plan.counts.updated += 1;
    }
  }

  // Pass 2: auto-link published, unlinked rows by title; a title shared on either side is left to a person.
  const rowsByTitle = groupBy(unlinkedPublished, (row) => normalizeTitle(row.title ?? ''));
  const productsByTitle = groupBy(unmatched, (product) => normalizeTitle(product.name));
  const toImport: DiscoveredProduct[] = [];
  for (const [title, titleProducts] of productsByTitle) {
    const rows = rowsByTitle.get(title);
    if (!rows || title === '') {
      toImport.push(...titleProducts);
      continue;
    }
    const [row] = rows;
    const [product] = titleProducts;
    if (rows.length === 1 && titleProducts.length === 1 && row && product) {
      needsDetails(row, product);
      plan.links.push({
        _id: row._id,
        set: {
          ...metadataSet(product, now, runId),
          last_sync_action: 'auto_linked',
          entity_id: product.entityId,
          catalog_type: catalogTypeFor(product.entityType),
        },
      });
      plan.counts.auto_linked += 1;
    } else {
      plan.ambiguous.push({
        title: titleProducts[0]?.name ?? title,
        listing_ids: rows.map((r) => String(r._id)),
        entity_ids: titleProducts.map((p) => p.entityId),
      });
    }
  }

  // Pass 3: import what is left.
  for (const product of toImport) {
    const status = importStatusFor(product.visibility);
    const _id = input.newId();
    describe.push({ _id, entityId: product.entityId, lastModified: toDate(product.lastModified) });
    plan.inserts.push({
      _id,
      team_id: input.teamId,
      connection_id: input.connectionId,
      entity_id: product.entityId,
      title: product.name,
      catalog_type: catalogTypeFor(product.entityType),
      aws_visibility: product.visibility,
      aws_last_modified: toDate(product.lastModified),
      status,
      published_at: status === 'published' ? now : null,
      last_synced_at: now,
      created_at: now,
      updated_at: now,
      last_sync_run_id: runId,
      last_sync_action: 'imported',
    });
  }
  plan.counts.imported += plan.inserts.length;

  // Gone from AWS: flagged, never deleted, and only where this run saw the type's whole listing.
  const listed = new Set(products.map((p) => p.entityId));
  const completeCatalogTypes = new Set<string>(input.completeTypes.map((t) => catalogTypeFor(t)));
  for (const row of input.listings) {
    if (row.connection_id !== input.connectionId || !row.entity_id || listed.has(row.entity_id)) continue;
    if (!completeCatalogTypes.has(row.catalog_type ?? '')) continue;
    plan.missing.push({ _id: row._id, alreadyFlagged: row.aws_missing_since instanceof Date });
  }
  return plan;
}

function sameTime(stored: Date | null | undefined, iso: string | null): boolean {
  const a = stored instanceof Date ? stored.getTime() : null;
  const b = iso ? Date.parse(iso) : null;
  return a === b;
}

function metadataSet(product: DiscoveredProduct, now: Date, runId: string): AwsMetadataSet {
  return {
    aws_visibility: product.visibility,
    aws_last_modified: toDate(product.lastModified),
    last_synced_at: now,
    aws_missing_since: null,
    last_sync_run_id: runId,
    last_sync_action: 'updated',
  };
}

function metadataChanged(row: ExistingListing, set: AwsMetadataSet): boolean {
  const before = row.aws_last_modified instanceof Date ? row.aws_last_modified.getTime() : null;
  const after = set.aws_last_modified ? set.aws_last_modified.getTime() : null;
  return row.aws_visibility !== set.aws_visibility || before !== after || row.aws_missing_since instanceof Date;
}

function toDate(iso: string | null): Date | null {
  return iso ? new Date(iso) : null;
}

function dedupeByEntityId(products: readonly DiscoveredProduct[]): DiscoveredProduct[] {
  const seen = new Map<string, DiscoveredProduct>();
  for (const product of products) if (!seen.has(product.entityId)) seen.set(product.entityId, product);
  return [...seen.values()];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
