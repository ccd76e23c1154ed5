import assert from 'node:assert/strict';
import { CancelledFailure, WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ensureSchedule, scheduleHandle, triggerSchedule } from '../../src/client/schedule.ts';
import type { SyncAllResult } from '../../src/shared/types.ts';
import { syncConnectionWorkflowId } from '../../src/shared/workflow-ids.ts';
import { syncAllProgressQuery, type syncAll } from '../../src/workflows/index.ts';
import { makeProducts } from '../helpers/emulator.ts';
import { seedConnection, type SeededConnection } from '../helpers/fixtures.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';
import { eventually } from '../helpers/wait.ts';
import { runsOf, workflowTaskFailures } from '../helpers/workflow-health.ts';

/** The chain ends as Cancelled: its result rejects with a CancelledFailure, within `ms`. */
async function endsCancelled(result: Promise<unknown>, ms: number): Promise<number> {
  const started = Date.now();
  const err = await result.then(
    () => assert.fail('the cancelled SyncAll completed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof CancelledFailure, String(err.cause));
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds * 1000 < ms, `ended ${seconds} s after the cancel`);
  return seconds;
}

async function isStarted(client: Client, connectionId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(syncConnectionWorkflowId(connectionId)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

// A cancel while children run used to fail the chain's workflow task on every attempt (an unhandled rejection),
// which kept a SyncAll open for as long as its children ran — and, with the schedule's SKIP overlap, every later
// scheduled SyncAll with it. Now the chain ends as Cancelled at once; children already running finish on their
// own (ABANDON), and nothing new starts.
describe('cancelling a SyncAll with children running', function () {
  this.timeout(180_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  it('ends the chain as Cancelled promptly, closes its sync_runs record, and the next scheduled SyncAll runs', async () => {
    const tq = uniqueTaskQueue('cancel');
    const scheduleId = `sync-marketplace-listings-${tq}`;
    const iso = await isolatedDb(stack, 'cancel');
    try {
      const seeded: SeededConnection[] = [];
      for (let i = 0; i < 6; i += 1) {
        seeded.push(
          await seedConnection(iso.db, {
            products: (a) => makeProducts(a, 'SaaSProduct', 2),
            faults: { latencyMs: 700 },
          }),
        );
      }
      await ensureSchedule(stack.client, { taskQueue: tq, scheduleId, input: { concurrency: 3, batchSize: 100 } });
      await withWorker(
        tq,
        async () => {
          await triggerSchedule(stack.client, scheduleId);
          const firstId = await eventually('the scheduled SyncAll', async () => {
            const d = await scheduleHandle(stack.client, scheduleId).describe();
            return d.info.runningActions[0]?.workflow.workflowId;
          });
          const chain = stack.client.workflow.getHandle<typeof syncAll>(firstId);
          await eventually('three children running', async () => {
            const p = await chain.query(syncAllProgressQuery);
            return p.running === 3;
          });
          await chain.cancel();
          const seconds = await endsCancelled(chain.result(), 15_000);
          console.log(`      cancelled with 3 children running: ended in ${seconds.toFixed(1)} s`);

          // One page of connections: the chain has one run, whose id is the chain's first run id.
          const { runId } = await chain.describe();
          const record = await iso.db
            .collection<{ _id: string; status: string; finished_at: Date | null }>('sync_runs')
            .findOne({ _id: `${firstId}/${runId}` });
          assert.equal(record?.status, 'cancelled');
          assert.ok(record?.finished_at instanceof Date, 'the record is closed');

          // The children that were running finish on their own; the others were never started by this chain.
          const started = (await Promise.all(seeded.map((c) => isStarted(stack.client, c.connectionId)))).filter(
            Boolean,
          ).length;
          assert.equal(started, 3);

          // The next scheduled SyncAll is not skipped as overlapping: once the schedule has seen the chain close
          // (it learns of it asynchronously), the next trigger starts one, and it syncs every connection.
          await eventually('the schedule to see the cancelled chain closed', async () => {
            const d = await scheduleHandle(stack.client, scheduleId).describe();
            return d.info.runningActions.length === 0;
          });
          // The scheduler may still act on a trigger with the state it had before it saw the close (CI saw one
          // trigger skipped with runningActions already empty), so an unanswered trigger is repeated; what must not
          // happen is that every trigger is skipped for as long as children run.
          let lastTrigger = 0;
          const nextId = await eventually(
            'the next scheduled SyncAll',
            async () => {
              if (Date.now() - lastTrigger > 5_000) {
                lastTrigger = Date.now();
                await triggerSchedule(stack.client, scheduleId);
              }
              const d = await scheduleHandle(stack.client, scheduleId).describe();
              return d.info.recentActions.map((a) => a.action.workflow.workflowId).find((id) => id !== firstId);
            },
            60_000,
          );
          const result = (await stack.client.workflow.getHandle(nextId).result()) as SyncAllResult;
          assert.equal(
            result.totals.connections.succeeded + result.totals.connections.skipped,
            seeded.length,
            JSON.stringify(result.totals),
          );
          for (const id of [firstId, nextId])
            assert.deepEqual(await workflowTaskFailures(stack.client, runsOf(id)), []);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await scheduleHandle(stack.client, scheduleId)
        .delete()
        .catch(() => undefined);
      await iso.close();
    }
  });

  // A slot that frees in the same workflow task as the cancel used to start a child inside the cancelled scope.
  // The worker is stopped so that both events land in one task: a running child ends (terminated here) and the
  // chain is cancelled while no worker polls; the next worker sees both at once.
  it('starts nothing when a child ends in the same workflow task as the cancel', async () => {
    const tq = uniqueTaskQueue('cancel-slot');
    const iso = await isolatedDb(stack, 'cancel_slot');
    try {
      const seeded: SeededConnection[] = [];
      for (let i = 0; i < 3; i += 1)
        seeded.push(
          await seedConnection(iso.db, { faults: { latencyMs: 1_500 }, connection: { _id: `slot-${i}-${tq}` } }),
        );
      const chain = await stack.client.workflow.start<typeof syncAll>('syncAll', {
        taskQueue: tq,
        workflowId: `sync-all-test-${tq}`,
        args: [{ concurrency: 1, batchSize: 100 }],
      });
      await withWorker(
        tq,
        () =>
          eventually('the first child running', async () => (await chain.query(syncAllProgressQuery)).running === 1),
        { env: { MONGODB_URI: iso.uri } },
      );
      // The stopping worker may have let the child finish its last local activities (it no longer polls, so the
      // chain has not seen that yet); otherwise it is ended here. Either way its end waits in the chain's next task.
      await stack.client.workflow
        .getHandle(syncConnectionWorkflowId(`slot-0-${tq}`))
        .terminate('frees the slot')
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      await chain.cancel();
      await withWorker(
        tq,
        async () => {
          const seconds = await endsCancelled(chain.result(), 30_000);
          console.log(`      child ended and chain cancelled in one task: ended in ${seconds.toFixed(1)} s`);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
      assert.equal(await isStarted(stack.client, `slot-1-${tq}`), false, 'no child started after the cancel');
      assert.deepEqual(await workflowTaskFailures(stack.client, runsOf(chain.workflowId)), []);
    } finally {
      await iso.close();
    }
  });

  // The same with a handed-over child's report freeing the slot: the chain's next run waits for that report
  // (concurrency 1) before starting its own connection. The report is sent here as the child would send it, in
  // the same task as the cancel.
  it('starts nothing when a handed-over child reports in the same workflow task as the cancel', async () => {
    const tq = uniqueTaskQueue('cancel-report');
    const iso = await isolatedDb(stack, 'cancel_report');
    try {
      await seedConnection(iso.db, { faults: { latencyMs: 3_000 }, connection: { _id: `report-0-${tq}` } });
      await seedConnection(iso.db, { connection: { _id: `report-1-${tq}` } });
      const chain = await stack.client.workflow.start<typeof syncAll>('syncAll', {
        taskQueue: tq,
        workflowId: `sync-all-test-${tq}`,
        args: [{ concurrency: 1, batchSize: 1 }],
      });
      await withWorker(
        tq,
        () =>
          eventually(
            'the next run waiting for the handed-over child',
            async () => {
              const p = await chain.query(syncAllProgressQuery);
              return p.run === 2 && p.handedOver === 1;
            },
            60_000,
          ),
        { env: { MONGODB_URI: iso.uri } },
      );
      await chain.signal('connectionSynced', {
        connectionId: `report-0-${tq}`,
        outcome: 'succeeded',
        counts: { total_aws: 3, matched: 0, updated: 0, auto_linked: 0, imported: 3 },
      });
      await chain.cancel();
      await withWorker(
        tq,
        async () => {
          const seconds = await endsCancelled(chain.result(), 30_000);
          console.log(`      report and cancel in one task: ended in ${seconds.toFixed(1)} s`);
          // The handed-over child was left to finish on its own.
          await stack.client.workflow.getHandle(syncConnectionWorkflowId(`report-0-${tq}`)).result();
        },
        { env: { MONGODB_URI: iso.uri } },
      );
      assert.equal(await isStarted(stack.client, `report-1-${tq}`), false, 'no child started after the cancel');
      assert.deepEqual(await workflowTaskFailures(stack.client, runsOf(chain.workflowId)), []);
    } finally {
      await iso.close();
    }
  });
});
