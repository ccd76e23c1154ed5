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

/** A ListEntities summary as it arrives: the SDK's types promise strings, the wire does not. */
export interface RawEntitySummary {
  EntityId?: unknown;
  EntityType?: unknown;
  Name?: unknown;
  Visibility?: unknown;
  LastModifiedDate?: unknown;
}

export type NormalizedSummary = { ok: true; product: DiscoveredProduct } | { ok: false; reason: string };

// AWS entity ids are short tokens (prod-abc123…); anything else cannot be a key we track.
const ENTITY_ID = /^[\w.:@/+-]{1,255}$/;
const MAX_NAME_LENGTH = 500;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function describe(value: unknown): string {
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

/**
 * AWS data is not always tidy. A summary without a usable id, or of another entity type than the one
 * listed, cannot be tracked and is reported; any other odd field is kept with a safe fallback (a blank or
 * non-string name becomes the entity id, an unknown visibility "Unknown", an unparseable date null), so one
 * odd entry never fails a sync.
 */
export function normalizeSummary(raw: RawEntitySummary | null | undefined, entityType: EntityType): NormalizedSummary {
  if (!raw || typeof raw !== 'object') return { ok: false, reason: `a ${entityType} summary that is not an object` };
  const entityId = text(raw.EntityId);
  if (!entityId || !ENTITY_ID.test(entityId)) {
    return {
      ok: false,
      reason: `a ${entityType} with an unusable EntityId ${describe(raw.EntityId)} (Name: ${describe(raw.Name)})`,
    };
  }
  if (raw.EntityType !== undefined && raw.EntityType !== entityType) {
    return {
      ok: false,
      reason: `${entityId}: AWS listed it as EntityType ${describe(raw.EntityType)} when asked for ${entityType}`,
    };
  }
  const name = text(raw.Name).slice(0, MAX_NAME_LENGTH) || entityId;
  const visibility = text(raw.Visibility) || 'Unknown';
  const date = text(raw.LastModifiedDate);
  const parsed = date ? Date.parse(date) : NaN;
  const lastModified = Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
  return { ok: true, product: { entityId, entityType, name, visibility, lastModified } };
}

export function normalizeTitle(title: string): string {
  return title.trim().toLowerCase();
}
