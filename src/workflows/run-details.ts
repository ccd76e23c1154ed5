// What a finished sync shows in the Temporal UI (its current details) and carries to a SyncAll chain.
import type { ReconcileCounts } from '../domain/reconcile-plan.ts';
import type { SyncError, SyncSummary } from '../shared/types.ts';

export function countsOf(s: SyncSummary): ReconcileCounts {
  return {
    total_aws: s.total_aws,
    matched: s.matched,
    updated: s.updated,
    auto_linked: s.auto_linked,
    imported: s.imported,
  };
}

/** The run's outcome as Markdown for the UI: counts, failed and skipped types, unusable summaries, ambiguous titles. */
export function describeSummary(
  connectionId: string,
  accountId: string,
  s: SyncSummary,
  error: SyncError | null,
): string {
  const lines = [
    `Connection **${connectionId}**, AWS account ${accountId}: ${error ? `failed: **${error.type}**` : 'synced'}${s.trigger ? ` (${s.trigger})` : ''}`,
    '',
    `| total_aws | matched | updated | auto_linked | imported |`,
    `| --- | --- | --- | --- | --- |`,
    `| ${s.total_aws} | ${s.matched} | ${s.updated} | ${s.auto_linked} | ${s.imported} |`,
  ];
  for (const t of s.failed_types) lines.push('', `Failed ${t.entity_type}: **${t.type}**: ${t.message}`);
  for (const t of s.skipped_types) lines.push('', `Skipped ${t.entity_type}: ${t.reason}`);
  if (s.invalid > 0) lines.push('', `${s.invalid} AWS summaries could not be used: ${s.invalid_products.join('; ')}`);
  if (s.ambiguous.length > 0)
    lines.push('', `Ambiguous titles left to a person: ${s.ambiguous.map((a) => a.title).join(', ')}`);
  return lines.join('\n');
}
