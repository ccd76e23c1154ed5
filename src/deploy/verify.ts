import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { replayAgainst } from './replay.ts';

// A CommonJS module: its namespaces are properties of the default export under Node's ESM loader.
const { temporal } = proto;
const Behavior = temporal.api.enums.v1.VersioningBehavior;

export interface VerifyReport {
  buildId: string;
  replayed: number;
  /** Events in the histories replayed. */
  events: number;
  /** Runs that would move onto this build (AUTO_UPGRADE, or started before versioning) and fail to replay on it. */
  wouldStrand: VerifyFailure[];
  /** Pinned runs of another build that do not replay here: harmless while their own build keeps running. */
  pinnedElsewhere: VerifyFailure[];
  /** Closed runs that do not replay here: nothing to strand, but the same change would strand a run like them. */
  closed: VerifyFailure[];
  seconds: number;
  peakRssMb: number;
}

export interface VerifyFailure {
  workflowId: string;
  runId: string;
  workflowType: string;
  behavior: 'pinned' | 'auto-upgrade' | 'unversioned';
  buildId: string | null;
  message: string;
}

interface RunMeta {
  open: boolean;
  runId: string;
  workflowType: string;
  behavior: VerifyFailure['behavior'];
  buildId: string | null;
}

/**
 * Replays the histories of every open run on the task queue, and of runs closed in the last `closedWithinHours`
 * (a fresh sample of what the current code writes), against `code`. Fetching is streamed, a few histories at a
 * time, so memory stays bounded by the replay worker and the histories in flight.
 */
export async function verifyBuild(
  client: Client,
  opts: { code: string; buildId: string; taskQueue: string; closedWithinHours: number; limit?: number },
): Promise<VerifyReport> {
  const started = Date.now();
  let peakRss = process.memoryUsage().rss;
  const since = new Date(Date.now() - opts.closedWithinHours * 3_600_000).toISOString();
  const query =
    `TaskQueue = '${opts.taskQueue}' AND ` +
    `WorkflowType IN ('syncAll', 'syncConnection', 'previewConnectionSync') AND ` +
    `(ExecutionStatus = 'Running' OR CloseTime > '${since}')`;
  const meta = new Map<string, RunMeta>();
  let listed = 0;
  let events = 0;
  const listing = client.workflow.list({ query });
  const histories = (async function* () {
    for await (const info of listing) {
      if (opts.limit !== undefined && listed >= opts.limit) return;
      listed += 1;
      const versioning = info.raw.versioningInfo;
      const behavior =
        versioning?.behavior === Behavior.VERSIONING_BEHAVIOR_PINNED
          ? 'pinned'
          : versioning?.behavior === Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
            ? 'auto-upgrade'
            : 'unversioned';
      const key = `${info.workflowId}/${info.runId}`;
      meta.set(key, {
        open: info.status.name === 'RUNNING',
        runId: info.runId,
        workflowType: info.type,
        behavior,
        buildId: versioning?.deploymentVersion?.buildId ?? null,
      });
      const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
      events += history.events?.length ?? 0;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      // The replay result names the workflow id only; the run id travels in it.
      yield { workflowId: key, history };
    }
  })();
  const wouldStrand: VerifyFailure[] = [];
  const pinnedElsewhere: VerifyFailure[] = [];
  const closed: VerifyFailure[] = [];
  let replayed = 0;
  for await (const outcome of replayAgainst({ code: opts.code }, histories)) {
    replayed += 1;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (!outcome.error) continue;
    const m = meta.get(outcome.workflowId);
    const failure: VerifyFailure = {
      workflowId: outcome.workflowId.slice(0, outcome.workflowId.lastIndexOf('/')),
      runId: m?.runId ?? '',
      workflowType: m?.workflowType ?? '',
      behavior: m?.behavior ?? 'unversioned',
      buildId: m?.buildId ?? null,
      message: outcome.error.message,
    };
    const staysPinned = failure.behavior === 'pinned' && failure.buildId !== null && failure.buildId !== opts.buildId;
    (!m?.open ? closed : staysPinned ? pinnedElsewhere : wouldStrand).push(failure);
  }
  return {
    buildId: opts.buildId,
    replayed,
    events,
    wouldStrand,
    pinnedElsewhere,
    closed,
    seconds: (Date.now() - started) / 1000,
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  };
}
