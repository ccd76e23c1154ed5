import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { ConnectionCursor, ReconcileInput, RunRef } from '../../src/shared/types.ts';
import { syncConnectionWorkflowId } from '../../src/shared/workflow-ids.ts';
import { syncAllProgressQuery, type syncAll } from '../../src/workflows/index.ts';
import { eventually } from '../helpers/wait.ts';
import { listed, role, stub, summary, withStubWorker } from './stub-worker.ts';

/** SyncAll's store activities over a fixed list of connection ids, paged by cursor as the real one pages. */
function storeOf(ids: string[]) {
  return {
    recordSyncRun: stub(() => undefined),
    sweepStaging: stub(() => 0),
    listConnectionsPage: stub(({ cursor, limit }: { cursor: ConnectionCursor | null; limit: number }) => {
      const from = cursor ? ids.indexOf(cursor.value) + 1 : 0;
      const entries = ids.slice(from, from + limit).map((value): ConnectionCursor => ({ kind: 'string', value }));
      return { entries, next: entries.length < limit ? null : (entries.at(-1) ?? null) };
    }),
  };
}

/** A child's reconcile that waits while the connection is `slow`, however long the test says, unless cancelled. */
function childActivities(ids: string[], slow: Map<string, number>) {
  return {
    assumeRole: stub((ref: RunRef) => role(ref.connectionId)),
    listFirstPages: stub(() => listed(1)),
    reconcile: async (input: ReconcileInput) => {
      const ms = slow.get(input.connectionId);
      if (ms) await Promise.race([delay(ms), Context.current().cancelled]);
      // Connection i imports i + 1 rows, so a total that counts a connection twice, or misses one, shows.
      return summary(ids.indexOf(input.connectionId) + 1);
    },
    recordSyncFailure: stub(() => undefined),
  };
}

// The real syncAll and syncConnection on the dev server, their activities stubbed.
describe('syncAll with stub activities', function () {
  this.timeout(90_000);

  it('hands a child still running at continue-as-new over to the chain, and counts every connection once', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map((x) => `handover-${x}-${Date.now()}`);
    // The first child outlasts the hand-over grace (5 s) of the run that started it.
    const slow = new Map([[ids[0]!, 8_000]]);
    await withStubWorker(
      'wf-handover',
      { ...storeOf(ids), ...childActivities(ids, slow) },
      async ({ client, taskQueue }) => {
        const result = await client.workflow.execute<typeof syncAll>('syncAll', {
          taskQueue,
          workflowId: `wf-handover-${taskQueue}`,
          args: [{ batchSize: 2, concurrency: 2 }],
        });
        assert.equal(result.totals.connections.succeeded, ids.length);
        assert.equal(result.totals.imported, (ids.length * (ids.length + 1)) / 2);
        assert.ok(result.runs >= 3, `${result.runs} runs`);
        assert.deepEqual(result.failures, []);
      },
    );
  });

  it('names a handed-over child that never reports as OutcomeUnknown once the report deadline passes', async () => {
    const ids = ['a', 'b', 'c'].map((x) => `unknown-${x}-${Date.now()}`);
    const slow = new Map([[ids[0]!, 120_000]]);
    await withStubWorker(
      'wf-unknown',
      { ...storeOf(ids), ...childActivities(ids, slow) },
      async ({ client, taskQueue }) => {
        const chain = await client.workflow.start<typeof syncAll>('syncAll', {
          taskQueue,
          workflowId: `wf-unknown-${taskQueue}`,
          args: [{ batchSize: 2, concurrency: 2, reportDeadline: '3 seconds' }],
        });
        // Once the slow child is handed over to the next run, it is terminated by hand: it will never report.
        await eventually(
          'the slow child handed over',
          async () => (await chain.query(syncAllProgressQuery)).run > 1,
          30_000,
        );
        await client.workflow.getHandle(syncConnectionWorkflowId(ids[0]!)).terminate('test: never reports');
        const result = await chain.result();
        assert.equal(result.totals.connections.succeeded, ids.length - 1);
        assert.equal(result.totals.connections.failed, 1);
        assert.deepEqual(
          result.failures.map((f) => [f.connection_id, f.type]),
          [[ids[0], 'OutcomeUnknown']],
        );
      },
    );
  });
});
