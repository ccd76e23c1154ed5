import { type EntityType } from './entity-types.ts';

/** A product as discovered through ListEntities, reduced to what the reconcile needs. */
export interface DiscoveredProduct {
  entityId: string;
  entityType: EntityType;
  name: string;
  visibility: string;
  /** ISO-8601 as AWS sends it, or null when AWS sent none or an unparseable value. */
  lastModified: string | null;
}

export interface RawEntitySummary {
  EntityId?: string | undefined;
  Name?: string | undefined;
  Visibility?: string | undefined;
  LastModifiedDate?: string | undefined;
}

export type NormalizedSummary = { ok: true; product: DiscoveredProduct } | { ok: false; reason: string };

/**
 * AWS data is not always tidy (missing names, unknown visibilities). A product without an id cannot be
 * tracked and is reported; anything else is kept with a safe fallback so one odd entry never fails a sync.
 */
export function normalizeSummary(raw: RawEntitySummary, entityType: EntityType): NormalizedSummary {
  const entityId = raw.EntityId?.trim();
  if (!entityId) return { ok: false, reason: `a ${entityType} without an EntityId (Name: ${raw.Name ?? 'none'})` };
  const name = raw.Name?.trim() || entityId;
  const visibility = raw.Visibility?.trim() || 'Unknown';
  const parsed = raw.LastModifiedDate ? Date.parse(raw.LastModifiedDate) : NaN;
  const lastModified = Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
  return { ok: true, product: { entityId, entityType, name, visibility, lastModified } };
}

export function normalizeTitle(title: string): string {
  return title.trim().toLowerCase();
}
