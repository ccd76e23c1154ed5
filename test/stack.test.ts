import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { MongoServerError } from 'mongodb';
import { FailureType } from '../src/shared/failures.ts';
import type { syncConnection } from '../src/workflows/index.ts';
import { openStack, uniqueTaskQueue, withWorker, type TestStack } from './helpers/stack.ts';

describe('the local stack', function () {
  this.timeout(60_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  it('MongoDB-wire server: insert, find, and a unique index rejecting a duplicate', async () => {
    const coll = stack.db.collection<{ _id: string; team_id: string; entity_id: string }>(`stack_check_${Date.now()}`);
    try {
      await coll.createIndex({ team_id: 1, entity_id: 1 }, { unique: true });
      await coll.insertOne({ _id: 'a', team_id: 't', entity_id: 'prod-1' });
      assert.deepEqual(await coll.findOne({ entity_id: 'prod-1' }), { _id: 'a', team_id: 't', entity_id: 'prod-1' });
      await assert.rejects(
        coll.insertOne({ _id: 'b', team_id: 't', entity_id: 'prod-1' }),
        (err: unknown) => err instanceof MongoServerError && err.code === 11000,
      );
    } finally {
      await coll.drop();
    }
  });

  it('Temporal dev server: a workflow round trip through a real worker', async () => {
    const tq = uniqueTaskQueue('stack');
    await withWorker(tq, async () => {
      const handle = await stack.client.workflow.start<typeof syncConnection>('syncConnection', {
        taskQueue: tq,
        workflowId: `stack-check-${Date.now()}`,
        args: [{ connectionId: 'no-such-connection' }],
      });
      const err = await handle.result().catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal((err.cause as { type?: string }).type, FailureType.ConnectionNotFound);
      assert.match(err.cause?.message ?? '', /no-such-connection does not exist/);
    });
  });

  it('the Temporal Web UI answers over HTTP', async function () {
    const ui = process.env.TEMPORAL_UI_URL;
    if (!ui) this.skip();
    const res = await fetch(ui);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
  });
});
