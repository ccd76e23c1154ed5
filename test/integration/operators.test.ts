import assert from 'node:assert/strict';
import { ListingSyncClient } from '../../src/client/index.ts';
import type { SyncConnectionProgress } from '../../src/shared/types.ts';
import { progressQuery, syncAllProgressQuery, type syncAll } from '../../src/workflows/index.ts';
import type { SyncAllProgress } from '../../src/shared/types.ts';
import { makeProducts } from '../helpers/emulator.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import { historyText } from '../helpers/history.ts';
import { eventually } from '../helpers/wait.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';

describe('what operators see: progress, search attributes, summaries', function () {
  this.timeout(120_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  it('answers the progress query mid-run and at the end', async () => {
    const tq = uniqueTaskQueue('progress');
    const conn = await seedConnection(stack.db, {
      products: (a) => [...makeProducts(a, 'SaaSProduct', 160), ...makeProducts(a, 'AmiProduct', 3)],
      faults: { latencyMs: 300 },
    });
    await withWorker(tq, async () => {
      const { handle } = await ListingSyncClient.fromClient(stack.client, tq).startConnectionSync(conn.connectionId);
      // 160 SaaS products take four pages: two on the fast path, two more in the heartbeating activity.
      const midRun = await eventually('the listing phase', async () => {
        const p: SyncConnectionProgress = await handle.query(progressQuery);
        return p.phase === 'listing' && p.types.AmiProduct?.status === 'complete' ? p : undefined;
      });
      assert.equal(midRun.connectionId, conn.connectionId);
      assert.equal(midRun.accountId, conn.accountId);
      assert.equal(midRun.types.SaaSProduct?.status, 'listing');
      assert.deepEqual(midRun.types.AmiProduct, { status: 'complete', pages: 1, products: 3 });
      assert.equal(midRun.summary, null);

      await handle.result();
      const done: SyncConnectionProgress = await handle.query(progressQuery);
      assert.equal(done.phase, 'succeeded');
      assert.deepEqual(done.types.SaaSProduct, { status: 'complete', pages: 4, products: 160 });
      assert.equal(done.summary?.imported, 163);
    });
  });

  it('finds runs by ConnectionId, TeamId, AwsAccountId and SyncOutcome, with readable summaries', async () => {
    const tq = uniqueTaskQueue('search');
    const ok = await seedConnection(stack.db);
    const denied = await seedConnection(stack.db, { connection: { external_id: 'not-the-one' } });
    await withWorker(tq, async () => {
      const app = ListingSyncClient.fromClient(stack.client, tq);
      const good = await app.startConnectionSync(ok.connectionId);
      await good.handle.result();
      const bad = await app.startConnectionSync(denied.connectionId);
      await bad.handle.result().catch(() => undefined);

      const find = (query: string) =>
        eventually(query, async () => {
          const ids: string[] = [];
          for await (const wf of stack.client.workflow.list({ query })) ids.push(wf.workflowId);
          return ids.length > 0 ? ids : undefined;
        });
      assert.deepEqual(await find(`ConnectionId = "${ok.connectionId}"`), [good.workflowId]);
      assert.deepEqual(await find(`TeamId = "${ok.teamId}" AND SyncOutcome = "succeeded"`), [good.workflowId]);
      assert.deepEqual(await find(`AwsAccountId = "${ok.accountId}"`), [good.workflowId]);
      assert.deepEqual(await find(`ConnectionId = "${denied.connectionId}" AND SyncOutcome = "failed"`), [
        bad.workflowId,
      ]);

      const description = await good.handle.describe();
      assert.equal(await description.staticSummary(), `Sync AWS Marketplace listings of connection ${ok.connectionId}`);
      const history = await historyText(good.handle);
      assert.ok(
        history.includes(`Assume the seller's role for connection ${ok.connectionId}`),
        'activity summaries are recorded',
      );
      assert.ok(history.includes(`Reconcile 3 products of account ${ok.accountId}`));
    });
  });

  it('SyncAll answers its progress query with connections started, running and remaining', async () => {
    const tq = uniqueTaskQueue('all-progress');
    const iso = await isolatedDb(stack, 'allprogress');
    try {
      for (let i = 0; i < 4; i += 1) await seedConnection(iso.db, { faults: { latencyMs: 700 } });
      await withWorker(
        tq,
        async () => {
          const handle = await stack.client.workflow.start<typeof syncAll>('syncAll', {
            taskQueue: tq,
            workflowId: `progress-sync-all-${Date.now()}`,
            args: [{ concurrency: 2 }],
          });
          const mid = await eventually('two running children', async () => {
            const p: SyncAllProgress = await handle.query(syncAllProgressQuery);
            return p.running === 2 ? p : undefined;
          });
          assert.equal(mid.batchSize, 4);
          assert.equal(mid.started, 2);
          assert.equal(mid.remainingInBatch, 2);
          const result = await handle.result();
          assert.equal(result.totals.connections.succeeded, 4);
          const done: SyncAllProgress = await handle.query(syncAllProgressQuery);
          assert.equal(done.running, 0);
          assert.equal(done.totals.connections.succeeded, 4);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await iso.close();
    }
  });
});
