import type { FailedType, ListEntitiesResult, SkippedType } from './types.ts';

/**
 * The types a sync could not list, as its summary and its preview report them: skipped (AWS does not list the type
 * for this account) and failed (the listing step gave up on it, finally or not).
 */
export function typeOutcomes(lists: readonly ListEntitiesResult[]): {
  skipped_types: SkippedType[];
  failed_types: FailedType[];
} {
  return {
    skipped_types: lists.flatMap((l) =>
      l.status === 'skipped' ? [{ entity_type: l.entityType, reason: l.reason }] : [],
    ),
    failed_types: lists.flatMap((l) =>
      l.status === 'failed' || l.status === 'interrupted'
        ? [{ entity_type: l.entityType, type: l.error.type, message: l.error.message }]
        : [],
    ),
  };
}
