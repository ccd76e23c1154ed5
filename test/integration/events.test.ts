import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { ListingSyncClient } from '../../src/client/index.ts';
import { syncConnectionWorkflowId } from '../../src/shared/workflow-ids.ts';
import type { SyncSummary } from '../../src/shared/types.ts';
import { emulator, makeProducts, uniqueAccountId } from '../helpers/emulator.ts';
import {
  queueDepth,
  sendEvent,
  sendRaw,
  syncRuns,
  testPoller,
  testQueues,
  testSqsClient,
  type CapturingLogger,
} from '../helpers/events.ts';
import { seedConnection, type SeededConnection } from '../helpers/fixtures.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually } from '../helpers/wait.ts';

/** Catalog events on a real SQS-compatible queue (goaws), a real poller, real Temporal and MongoDB. */
describe('Catalog events refresh connections', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let sqs: SQSClient;
  before(async () => {
    stack = await openStack();
    sqs = testSqsClient();
  });
  after(async () => {
    sqs?.destroy();
    await stack?.close();
  });

  const handleOf = (c: SeededConnection) => stack.client.workflow.getHandle(syncConnectionWorkflowId(c.connectionId));
  /** The chain's final result, once the sync a refresh started (and any extra run) has ended. */
  const finalResult = (c: SeededConnection) =>
    eventually(`a sync of ${c.connectionId}`, async () => (await handleOf(c).result()) as SyncSummary);
  const refreshLines = (logger: CapturingLogger) =>
    logger.lines.filter((l) => l.message === 'Refresh requested by a Catalog event');

  it("refreshes the event's account's connection, and no other", async () => {
    const tq = uniqueTaskQueue('event-one');
    const { queueUrl } = await testQueues(sqs, 'one');
    const target = await seedConnection(stack.db);
    const other = await seedConnection(stack.db);
    await withWorker(tq, async () => {
      const { poller, logger } = testPoller({ sqs, queueUrl, db: stack.db, client: stack.client, taskQueue: tq });
      poller.start();
      try {
        const eventId = await sendEvent(sqs, queueUrl, target.accountId, 'Change Set Succeeded');
        const summary = await finalResult(target);
        assert.equal(summary.trigger, 'Refresh after Change Set Succeeded');
        assert.equal(summary.imported, 3);
        const description = await handleOf(target).describe();
        assert.equal(
          await description.staticSummary(),
          `Refresh after Change Set Succeeded (AWS account ${target.accountId}, connection ${target.connectionId})`,
        );
        assert.equal((await syncRuns(stack.client, target.connectionId)).length, 1);
        await assert.rejects(handleOf(other).describe(), WorkflowNotFoundError);
        assert.equal(await stack.db.collection('listings').countDocuments({ team_id: other.teamId }), 0);
        await eventually('the message deleted', async () => {
          const d = await queueDepth(sqs, queueUrl);
          return d.waiting + d.inFlight === 0;
        });
        const [line] = refreshLines(logger);
        assert.equal(line?.meta?.connectionId, target.connectionId);
        assert.equal(line?.meta?.eventId, eventId);
        assert.deepEqual(poller.handled, { refreshed: 1, unknown_account: 0, malformed: 0, deferred: 0 });
      } finally {
        await poller.stop();
      }
    });
  });

  it('events after a running sync listed make exactly one extra pass, which sees the change', async () => {
    const tq = uniqueTaskQueue('event-during');
    const { queueUrl } = await testQueues(sqs, 'during');
    let entityId = '';
    const conn = await seedConnection(stack.db, {
      faults: { latencyMs: 1_500 },
      products: (account) => {
        const products = makeProducts(account, 'SaaSProduct', 3);
        entityId = products[0]!.entityId;
        return products;
      },
    });
    const listCalls = async () => (await emulator.stats()).byAccount[conn.accountId]?.calls.ListEntities ?? 0;
    await withWorker(tq, async () => {
      const { poller } = testPoller({ sqs, queueUrl, db: stack.db, client: stack.client, taskQueue: tq });
      poller.start();
      try {
        const app = ListingSyncClient.fromClient(stack.client, tq);
        const { handle } = await app.startConnectionSync(conn.connectionId);
        // Every type listed (each call answers after 1.5 s); the run is describing and reconciling now.
        await eventually('the first listing', async () => (await listCalls()) === 4);
        await emulator.patchProduct(conn.accountId, entityId, {
          visibility: 'Restricted',
          lastModified: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        });
        for (let i = 0; i < 5; i++) await sendEvent(sqs, queueUrl, conn.accountId, 'Offer Released');
        await handle.result();
        await eventually('all five events handled', () => poller.handled.refreshed === 5);
        const final = await finalResult(conn);
        const runs = await eventually('the runs settled', async () => {
          const r = await syncRuns(stack.client, conn.connectionId);
          return r.every((x) => x.status !== 'RUNNING') ? r : undefined;
        });
        // One extra pass: a second run, or (when the events reached the run's only workflow task) the same run
        // listing again after replaying with the signal first. Either way every type is listed exactly twice.
        assert.equal(await listCalls(), 8, 'every type listed twice: one extra pass');
        assert.ok(runs.length <= 2, `${runs.length} runs`);
        if (runs.length === 2) assert.equal(final.trigger, 'Refresh after Offer Released');
        const row = await stack.db.collection('listings').findOne({ team_id: conn.teamId, entity_id: entityId });
        assert.equal(row?.aws_visibility, 'Restricted', 'the change made after the first listing is synced');
      } finally {
        await poller.stop();
      }
    });
  });

  it('events while a long sync lists make exactly one extra run, named for the event', async () => {
    const tq = uniqueTaskQueue('event-extra-run');
    const { queueUrl } = await testQueues(sqs, 'extra-run');
    // 120 SaaS products: the fast path lists two pages, a heartbeating activity the third, in a workflow task of
    // its own; that is when the events arrive.
    const conn = await seedConnection(stack.db, {
      faults: { latencyMs: 1_500 },
      products: (account) => makeProducts(account, 'SaaSProduct', 120),
    });
    const listCalls = async () => (await emulator.stats()).byAccount[conn.accountId]?.calls.ListEntities ?? 0;
    await withWorker(tq, async () => {
      const { poller } = testPoller({ sqs, queueUrl, db: stack.db, client: stack.client, taskQueue: tq });
      poller.start();
      try {
        const app = ListingSyncClient.fromClient(stack.client, tq);
        const { handle } = await app.startConnectionSync(conn.connectionId);
        await eventually('the fast path done', async () => (await listCalls()) >= 5);
        await delay(200);
        for (let i = 0; i < 5; i++) await sendEvent(sqs, queueUrl, conn.accountId, 'Offer Released');
        const final = await handle.result();
        assert.equal(final.trigger, 'Refresh after Offer Released');
        assert.equal(final.matched, 120);
        await eventually('all five events handled', () => poller.handled.refreshed === 5);
        const runs = await syncRuns(stack.client, conn.connectionId);
        assert.deepEqual(
          runs.map((r) => r.status),
          ['CONTINUED_AS_NEW', 'COMPLETED'],
        );
        assert.equal(await listCalls(), 12, 'two passes of 6 ListEntities calls');
      } finally {
        await poller.stop();
      }
    });
  });

  it('100 events for one account within a second make at most 2 runs', async () => {
    const tq = uniqueTaskQueue('event-burst');
    const { queueUrl } = await testQueues(sqs, 'burst');
    const conn = await seedConnection(stack.db);
    await withWorker(tq, async () => {
      const { poller } = testPoller({ sqs, queueUrl, db: stack.db, client: stack.client, taskQueue: tq });
      poller.start();
      try {
        const started = Date.now();
        const { testCatalogEvent } = await import('../../src/domain/catalog-event.ts');
        await sendRaw(
          sqs,
          queueUrl,
          Array.from({ length: 100 }, (_, i) =>
            JSON.stringify(testCatalogEvent(conn.accountId, { id: `burst-${i}`, time: new Date() })),
          ),
        );
        assert.ok(Date.now() - started < 1_000, `sending took ${Date.now() - started} ms`);
        await eventually('every event handled', () => poller.handled.refreshed === 100, 60_000);
        const summary = await finalResult(conn);
        assert.equal(summary.trigger, 'Refresh after Change Set Succeeded');
        const runs = await eventually('runs settled', async () => {
          const r = await syncRuns(stack.client, conn.connectionId);
          return r.length > 0 && r.every((x) => x.status !== 'RUNNING') ? r : undefined;
        });
        assert.ok(runs.length >= 1 && runs.length <= 2, `${runs.length} runs`);
        assert.equal(await stack.db.collection('listings').countDocuments({ team_id: conn.teamId }), 3);
      } finally {
        await poller.stop();
      }
    });
  });

  it('leaves malformed messages to the redrive policy and deletes events of unknown accounts', async () => {
    const tq = uniqueTaskQueue('event-bad');
    const { queueUrl, deadLetterQueueUrl } = await testQueues(sqs, 'bad', {
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 1,
    });
    await withWorker(tq, async () => {
      const { poller, logger } = testPoller({ sqs, queueUrl, db: stack.db, client: stack.client, taskQueue: tq });
      poller.start();
      try {
        const stranger = uniqueAccountId();
        await sendRaw(sqs, queueUrl, [
          'not json at all',
          JSON.stringify({
            source: 'aws.ec2',
            'detail-type': 'EC2 Instance State-change Notification',
            account: stranger,
          }),
        ]);
        await sendEvent(sqs, queueUrl, stranger);
        await eventually(
          'both malformed messages in the dead-letter queue',
          async () => (await queueDepth(sqs, deadLetterQueueUrl)).waiting === 2,
        );
        await eventually('the queue empty', async () => {
          const d = await queueDepth(sqs, queueUrl);
          return d.waiting + d.inFlight === 0;
        });
        const reasons = logger.lines.filter((l) => l.level === 'WARN').map((l) => String(l.meta?.reason));
        assert.ok(reasons.includes('the message body is not JSON'), reasons.join('; '));
        assert.ok(
          reasons.some((r) => r.startsWith('source is "aws.ec2"')),
          reasons.join('; '),
        );
        const unknown = logger.lines.find((l) =>
          l.message.startsWith('Catalog event for an AWS account with no connection'),
        );
        assert.equal(unknown?.meta?.account, stranger);
        assert.equal(poller.handled.unknown_account, 1);
        assert.equal(poller.handled.refreshed, 0);
      } finally {
        await poller.stop();
      }
    });
  });

  it('keeps the message while Temporal is unreachable and handles it when Temporal returns', async () => {
    const tq = uniqueTaskQueue('event-partition');
    const { queueUrl } = await testQueues(sqs, 'partition', { visibilityTimeoutSeconds: 2 });
    const conn = await seedConnection(stack.db);
    const [host = '127.0.0.1', port = '7233'] = stack.config.temporal.connection.address!.split(':');
    const proxy = new TcpProxy({ host, port: Number(port) });
    await proxy.open();
    const connection = await Connection.connect({ address: proxy.address });
    const viaProxy = new Client({ connection, namespace: stack.config.temporal.namespace });
    try {
      await withWorker(tq, async () => {
        const { poller, logger } = testPoller({ sqs, queueUrl, db: stack.db, client: viaProxy, taskQueue: tq });
        poller.start();
        try {
          await proxy.cut();
          await sendEvent(sqs, queueUrl, conn.accountId);
          await eventually('the poller pausing', () =>
            logger.lines.some((l) => l.message.startsWith('Temporal is unreachable')),
          );
          assert.ok(poller.handled.deferred >= 1);
          const during = await queueDepth(sqs, queueUrl);
          assert.equal(during.waiting + during.inFlight, 1, 'the event is still on the queue');
          await assert.rejects(handleOf(conn).describe(), WorkflowNotFoundError);

          await proxy.open();
          const summary = await finalResult(conn);
          assert.equal(summary.trigger, 'Refresh after Change Set Succeeded');
          await eventually('the message deleted', async () => {
            const d = await queueDepth(sqs, queueUrl);
            return d.waiting + d.inFlight === 0;
          });
          assert.equal(poller.handled.refreshed, 1);
          assert.ok(logger.lines.some((l) => l.message.startsWith('Temporal is back')));
        } finally {
          await poller.stop();
        }
      });
    } finally {
      await connection.close();
      await proxy.cut();
    }
  });

  it('a message Temporal accepted but nobody deleted comes back and repeats only a harmless refresh', async () => {
    const tq = uniqueTaskQueue('event-redelivery');
    const { queueUrl } = await testQueues(sqs, 'redelivery', { visibilityTimeoutSeconds: 1 });
    const conn = await seedConnection(stack.db);
    let accepted = 0;
    await withWorker(tq, async () => {
      const { poller } = testPoller({
        sqs,
        queueUrl,
        db: stack.db,
        client: stack.client,
        taskQueue: tq,
        // As if the process died between Temporal's answer and the delete: the refresh is in, the message stays.
        wrapRefresh: (refresh) => async (connectionId, request) => {
          const started = await refresh(connectionId, request);
          accepted += 1;
          if (accepted === 1) throw new Error('gone before the delete');
          return started;
        },
      });
      poller.start();
      try {
        await sendEvent(sqs, queueUrl, conn.accountId);
        await eventually('the redelivered message deleted', async () => {
          const d = await queueDepth(sqs, queueUrl);
          return accepted === 2 && d.waiting + d.inFlight === 0;
        });
        assert.deepEqual(poller.handled, { refreshed: 1, unknown_account: 0, malformed: 0, deferred: 1 });
        const final = await finalResult(conn);
        assert.equal(final.total_aws, 3);
        const runs = await eventually('the runs settled', async () => {
          const r = await syncRuns(stack.client, conn.connectionId);
          return r.length > 0 && r.every((x) => x.status !== 'RUNNING') ? r : undefined;
        });
        assert.ok(runs.length <= 2, `${runs.length} runs`);
        assert.ok(runs.every((r) => r.status === 'COMPLETED' || r.status === 'CONTINUED_AS_NEW'));
        const rows = await stack.db.collection('listings').find({ team_id: conn.teamId }).toArray();
        assert.equal(rows.length, 3, 'imported once');
        assert.equal(new Set(rows.map((r) => r.entity_id)).size, 3);
      } finally {
        await poller.stop();
      }
    });
  });

  it('two pollers on one queue handle each event once', async () => {
    const tq = uniqueTaskQueue('event-two');
    const { queueUrl } = await testQueues(sqs, 'two');
    // A database of its own: on the scanning local store, the shared one's tens of thousands of rows from other
    // tests made this test take minutes (every lookup and reconcile reads the whole collection).
    const iso = await isolatedDb(stack, 'two_pollers');
    const conns = await Promise.all(Array.from({ length: 20 }, () => seedConnection(iso.db)));
    await withWorker(
      tq,
      async () => {
        const one = testPoller({ sqs, queueUrl, db: iso.db, client: stack.client, taskQueue: tq });
        const two = testPoller({ sqs: testSqsClient(), queueUrl, db: iso.db, client: stack.client, taskQueue: tq });
        one.poller.start();
        two.poller.start();
        try {
          for (const c of conns) await sendEvent(sqs, queueUrl, c.accountId);
          await eventually(
            'every event handled',
            () => one.poller.handled.refreshed + two.poller.handled.refreshed >= 20,
            60_000,
          );
          for (const c of conns) assert.equal((await finalResult(c)).imported, 3);
          await delay(3_000);
          assert.equal(one.poller.handled.refreshed + two.poller.handled.refreshed, 20);
          const eventIds = [...refreshLines(one.logger), ...refreshLines(two.logger)].map((l) => l.meta?.eventId);
          assert.equal(new Set(eventIds).size, 20, 'no event handled twice');
          for (const c of conns) assert.equal((await syncRuns(stack.client, c.connectionId)).length, 1, c.connectionId);
        } finally {
          await Promise.all([one.poller.stop(), two.poller.stop()]);
        }
      },
      { env: { MONGODB_URI: iso.uri } },
    ).finally(() => iso.close());
  });
});
