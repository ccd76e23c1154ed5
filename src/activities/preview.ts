// The preview of a sync (previewConnectionSync): the same plan as the reconcile, writing nothing to listings or
// connections, with the titles a person needs to judge it.
import { typeOutcomes } from '../shared/type-outcomes.ts';
import type { ReconcileInput, SyncPreview } from '../shared/types.ts';
import type { ActivityContext } from './deps.ts';
import type { PlanRun } from './reconcile.ts';

const PREVIEW_TITLES = 50;

export function createPreview({ deps, settings, c }: ActivityContext, planRun: PlanRun) {
  /** What a sync would do, from the same plan, writing nothing to listings or connections. */
  async function previewReconcile(input: ReconcileInput): Promise<SyncPreview> {
    const planned = await planRun(input, deps.clock());
    if ('recorded' in planned) throw new Error('a preview never records an outcome');
    const { plan, products, staged } = planned;
    // The role session stays: a sync of the same connection may be using it right now.
    if (staged) await c.staging.deleteMany({ run_id: input.runId });
    const names = new Map(products.map((p) => [p.entityId, p.name]));
    const titles = new Map(
      (
        await c.listings
          .find({ _id: { $in: [...plan.updates, ...plan.missing].map((r) => r._id) } }, { projection: { title: 1 } })
          .toArray()
      ).map((r) => [String(r._id), typeof r.title === 'string' ? r.title : String(r._id)]),
    );
    const first = (items: string[]) => items.slice(0, PREVIEW_TITLES);
    return {
      total_aws: plan.counts.total_aws,
      would: {
        update: plan.counts.updated,
        link: plan.counts.auto_linked,
        import: plan.counts.imported,
        flag_missing: plan.missing.length,
        describe: plan.describe.length,
      },
      titles: {
        update: first(plan.updates.map((u) => titles.get(String(u._id)) ?? String(u._id))),
        link: first(plan.links.map((l) => names.get(l.set.entity_id) ?? l.set.entity_id)),
        import: first(plan.inserts.map((i) => i.title)),
        flag_missing: first(plan.missing.map((m) => titles.get(String(m._id)) ?? String(m._id))),
      },
      ambiguous: plan.ambiguous.slice(0, settings.summaryListLimit),
      ...typeOutcomes(input.lists),
    };
  }

  /** A preview that ends early leaves no staged pages behind (and, like a finished one, keeps the session). */
  async function discardStaging(input: { runId: string; connectionId: string }): Promise<void> {
    await c.staging.deleteMany({ run_id: input.runId });
  }

  return { previewReconcile, discardStaging };
}
