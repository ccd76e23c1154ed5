import assert from 'node:assert/strict';
import { ensureSchedule, scheduleHandle, triggerSchedule } from '../../src/client/schedule.ts';
import { ListingSyncClient } from '../../src/client/index.ts';
import { FailureType } from '../../src/shared/failures.ts';
import type { SyncAllResult } from '../../src/shared/types.ts';
import type { syncAll } from '../../src/workflows/index.ts';
import { emulator, makeProducts } from '../helpers/emulator.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';

describe('SyncAll and its schedule', function () {
  this.timeout(600_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  async function runSyncAll(taskQueue: string, input: Parameters<typeof syncAll>[0] = {}) {
    const handle = await stack.client.workflow.start<typeof syncAll>('syncAll', {
      taskQueue,
      workflowId: `sync-all-test-${taskQueue}`,
      args: [input],
    });
    return { handle, result: await handle.result() };
  }

  it('ensures the schedule idempotently, updates it on change, and a trigger syncs every connection', async () => {
    const tq = uniqueTaskQueue('schedule');
    const scheduleId = `sync-marketplace-listings-${tq}`;
    const iso = await isolatedDb(stack, 'schedule');
    try {
      const seeded = [];
      for (let i = 0; i < 4; i += 1) {
        seeded.push(await seedConnection(iso.db, { products: (acct) => makeProducts(acct, 'AmiProduct', i + 1) }));
      }
      assert.equal(await ensureSchedule(stack.client, { taskQueue: tq, scheduleId }), 'created');
      assert.equal(await ensureSchedule(stack.client, { taskQueue: tq, scheduleId }), 'unchanged');
      assert.equal(await ensureSchedule(stack.client, { taskQueue: tq, scheduleId, every: '3h' }), 'updated');
      const described = await scheduleHandle(stack.client, scheduleId).describe();
      assert.equal(described.spec.intervals?.[0]?.every, 3 * 3_600_000);
      assert.equal(described.policies.overlap, 'SKIP');
      const listed = [];
      for await (const s of stack.client.schedule.list()) if (s.scheduleId === scheduleId) listed.push(s);
      assert.equal(listed.length, 1, 'ensure never duplicates the schedule');

      await withWorker(
        tq,
        async () => {
          await triggerSchedule(stack.client, scheduleId);
          let workflowId: string | undefined;
          for (let i = 0; i < 100 && !workflowId; i += 1) {
            const d = await scheduleHandle(stack.client, scheduleId).describe();
            workflowId =
              d.info.recentActions[0]?.action.workflow.workflowId ?? d.info.runningActions[0]?.workflow.workflowId;
            if (!workflowId) await new Promise((r) => setTimeout(r, 200));
          }
          assert.ok(workflowId, 'the trigger started a SyncAll');
          assert.ok(workflowId.startsWith(scheduleId));
          const result = (await stack.client.workflow.getHandle(workflowId).result()) as SyncAllResult;
          assert.deepEqual(result.totals.connections, { succeeded: 4, failed: 0, skipped: 0 });
          assert.equal(result.totals.imported, 1 + 2 + 3 + 4);
          assert.equal(result.totals.total_aws, 10);
          const run = await iso.db.collection('sync_runs').findOne({});
          assert.equal(run?.status, 'succeeded');
          assert.equal(run?.totals.imported, 10);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await scheduleHandle(stack.client, scheduleId).delete();
      await iso.close();
    }
  });

  it('continues as new across 1,500 connections with exact totals and small histories', async () => {
    const tq = uniqueTaskQueue('fanout');
    const iso = await isolatedDb(stack, 'fanout');
    try {
      const count = 1_500;
      const accounts = Array.from({ length: count }, (_, i) => String(500_000_000_000 + i));
      await emulator.putAccounts(
        accounts.map((accountId, i) => ({
          accountId,
          roles: [{ name: 'ListingSync', externalId: `ext-${accountId}` }],
          products: i % 100 === 0 ? makeProducts(accountId, 'SaaSProduct', 2) : [],
        })),
      );
      await iso.db.collection('connections').insertMany(
        accounts.map((accountId, i) => ({
          _id: `fan-${String(i).padStart(5, '0')}` as never,
          team_id: `fan-team-${i}`,
          provider: 'aws',
          iam_role_arn: `arn:aws:iam::${accountId}:role/ListingSync`,
          external_id: `ext-${accountId}`,
        })),
      );
      await iso.db.collection('connections').insertMany([
        {
          _id: 'fan-disabled' as never,
          team_id: 't',
          provider: 'aws',
          disabled: true,
          iam_role_arn: 'x',
          external_id: 'y',
        },
        { _id: 'fan-gcp' as never, team_id: 't', provider: 'gcp' },
      ]);

      await withWorker(
        tq,
        async () => {
          const { handle, result } = await runSyncAll(tq, { batchSize: 400, concurrency: 60 });
          assert.deepEqual(result.totals.connections, { succeeded: count, failed: 0, skipped: 0 });
          assert.equal(result.totals.imported, 2 * (count / 100));
          assert.equal(result.runs, 4, '1,500 connections in pages of 400 take four runs');

          let runs = 0;
          for await (const wf of stack.client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` })) {
            runs += 1;
            const history = await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
            assert.ok((history.events?.length ?? 0) < 10_000, `run ${wf.runId} has ${history.events?.length} events`);
          }
          assert.equal(runs, 4);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await iso.close();
    }
  });

  it('records broken connections with a clear error and syncs the rest', async () => {
    const tq = uniqueTaskQueue('broken');
    const iso = await isolatedDb(stack, 'broken');
    try {
      const good = await seedConnection(iso.db, { products: (acct) => makeProducts(acct, 'SaaSProduct', 3) });
      const denied = await seedConnection(iso.db, { connection: { external_id: 'wrong-external-id' } });
      const malformed = await seedConnection(iso.db, { connection: { iam_role_arn: 'arn:aws:iam::123:role/' } });
      const missing = await seedConnection(iso.db, { connection: { external_id: null } });
      await withWorker(
        tq,
        async () => {
          const { result } = await runSyncAll(tq);
          assert.deepEqual(result.totals.connections, { succeeded: 1, failed: 3, skipped: 0 });
          assert.equal(result.totals.imported, 3);
          const byId = new Map(result.failures.map((f) => [f.connection_id, f]));
          assert.equal(byId.get(denied.connectionId)?.type, FailureType.AssumeRoleDenied);
          assert.equal(byId.get(malformed.connectionId)?.type, FailureType.InvalidConnection);
          assert.match(byId.get(malformed.connectionId)!.message, /not an IAM role ARN/);
          assert.match(byId.get(missing.connectionId)!.message, /external_id is missing/);
          const docs = await iso.db.collection('connections').find().toArray();
          const sync = new Map(docs.map((d) => [String(d._id), d.sync]));
          assert.equal(sync.get(good.connectionId)?.status, 'succeeded');
          for (const broken of [denied, malformed, missing]) {
            assert.equal(sync.get(broken.connectionId)?.status, 'failed');
            assert.ok(sync.get(broken.connectionId)?.error.message.length > 20);
          }
          const run = await iso.db.collection('sync_runs').findOne({});
          assert.equal(run?.failures.length, 3);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await iso.close();
    }
  });

  it('does not start a second sync of a connection whose sync is already running', async () => {
    const tq = uniqueTaskQueue('running');
    const iso = await isolatedDb(stack, 'running');
    try {
      const slow = await seedConnection(iso.db, { faults: { latencyMs: 1_500 } });
      const other = await seedConnection(iso.db);
      await withWorker(
        tq,
        async () => {
          const app = ListingSyncClient.fromClient(stack.client, tq);
          const onConnect = await app.startConnectionSync(slow.connectionId);
          const { result } = await runSyncAll(tq);
          assert.deepEqual(result.totals.connections, { succeeded: 1, failed: 0, skipped: 1 });
          await onConnect.handle.result();
          const stats = await emulator.stats();
          assert.equal(stats.byAccount[slow.accountId]?.calls.AssumeRole, 1, 'the running sync was not started twice');
          assert.equal(stats.byAccount[other.accountId]?.calls.AssumeRole, 1);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await iso.close();
    }
  });
});
