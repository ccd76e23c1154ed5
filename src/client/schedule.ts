import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import type { SyncAllInput } from '../shared/types.ts';
import { SYNC_ALL_SCHEDULE_ID } from '../shared/workflow-ids.ts';

export interface ScheduleSettings {
  taskQueue: string;
  /** e.g. "6h"; the seed's "every six hours". */
  every?: string;
  input?: SyncAllInput;
  scheduleId?: string;
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "6h", "30m", "1d" to milliseconds; the schedule describes its interval in milliseconds. */
export function parseInterval(every: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(every.trim());
  if (!match) throw new Error(`Schedule interval "${every}" must look like 30m, 6h or 1d`);
  return Number(match[1]) * (UNIT_MS[match[2]!] ?? 0);
}

function desired(settings: ScheduleSettings) {
  const everyMs = parseInterval(settings.every ?? '6h');
  return {
    everyMs,
    taskQueue: settings.taskQueue,
    args: [settings.input ?? {}] as [SyncAllInput],
    // SKIP: a SyncAll still running when the next one is due is left to finish; the due one is dropped.
    overlap: ScheduleOverlapPolicy.SKIP,
    // One interval: after an outage the most recent missed run is taken once, never a backlog of them.
    catchupWindowMs: everyMs,
  };
}

function scheduleOptions(id: string, settings: ScheduleSettings): Omit<ScheduleOptions, 'scheduleId'> {
  const d = desired(settings);
  return {
    spec: { intervals: [{ every: d.everyMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'syncAll',
      workflowId: id,
      taskQueue: d.taskQueue,
      args: d.args,
      staticSummary: 'Sync AWS Marketplace listings of every connection',
    },
    policies: { overlap: d.overlap, catchupWindow: d.catchupWindowMs },
  };
}

function differs(current: ScheduleDescription, settings: ScheduleSettings): boolean {
  const d = desired(settings);
  const action = current.action;
  const interval = current.spec.intervals?.[0];
  return (
    current.spec.intervals?.length !== 1 ||
    interval?.every !== d.everyMs ||
    action.type !== 'startWorkflow' ||
    action.workflowType !== 'syncAll' ||
    action.taskQueue !== d.taskQueue ||
    JSON.stringify(action.args ?? []) !== JSON.stringify(d.args) ||
    current.policies.overlap !== d.overlap ||
    current.policies.catchupWindow !== d.catchupWindowMs
  );
}

/** Creates the schedule, or brings it to the current definition; safe to run at every deploy. */
export async function ensureSchedule(client: Client, settings: ScheduleSettings): Promise<EnsureOutcome> {
  const scheduleId = settings.scheduleId ?? SYNC_ALL_SCHEDULE_ID;
  const options = scheduleOptions(scheduleId, settings);
  try {
    await client.schedule.create({ scheduleId, ...options });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  if (!differs(await handle.describe(), settings)) return 'unchanged';
  await handle.update((previous) => ({ ...previous, ...options, state: previous.state }));
  return 'updated';
}

export function scheduleHandle(client: Client, scheduleId = SYNC_ALL_SCHEDULE_ID) {
  return client.schedule.getHandle(scheduleId);
}

/** Runs the schedule's action now, under its own overlap policy (trigger() would default to ALLOW_ALL). */
export async function triggerSchedule(client: Client, scheduleId = SYNC_ALL_SCHEDULE_ID): Promise<void> {
  await scheduleHandle(client, scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
}
