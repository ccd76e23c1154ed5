import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient, MongoServerError } from 'mongodb';
import type { ping } from './fixtures/ping-workflow.ts';

// Checks the servers scripts/stack.ts starts (or was pointed at), without the project's own code.
describe('the local stack', function () {
  this.timeout(60_000);
  const suffix = `${process.pid}_${Date.now()}`;

  it('MongoDB-wire server: insert, find, and a unique index rejecting a duplicate', async () => {
    const uri = process.env.MONGODB_URI;
    assert.ok(uri, 'MONGODB_URI is set by scripts/stack.ts');
    const mongo = await new MongoClient(uri).connect();
    const coll = mongo.db().collection<{ _id: string; team_id: string; entity_id: string }>(`stack_check_${suffix}`);
    try {
      await coll.createIndex({ team_id: 1, entity_id: 1 }, { unique: true });
      await coll.insertOne({ _id: 'a', team_id: 't', entity_id: 'prod-1' });
      await coll.insertOne({ _id: 'b', team_id: 't', entity_id: 'prod-2' });
      assert.deepEqual(await coll.findOne({ entity_id: 'prod-1' }), { _id: 'a', team_id: 't', entity_id: 'prod-1' });
      assert.deepEqual(await coll.findOne({ _id: 'b' }), { _id: 'b', team_id: 't', entity_id: 'prod-2' });
      await assert.rejects(
        coll.insertOne({ _id: 'c', team_id: 't', entity_id: 'prod-1' }),
        (err: unknown) => err instanceof MongoServerError && err.code === 11000,
      );
      assert.equal(await coll.countDocuments({ team_id: 't' }), 2);
    } finally {
      await coll.drop();
      await mongo.close();
    }
  });

  it('Temporal dev server: a workflow round trip through a real worker', async () => {
    const address = process.env.TEMPORAL_ADDRESS;
    assert.ok(address, 'TEMPORAL_ADDRESS is set by scripts/stack.ts');
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    const taskQueue = `stack-ping-${suffix}`;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/ping-workflow.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const nativeConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    try {
      const worker = await Worker.create({ connection: nativeConnection, namespace, taskQueue, workflowBundle });
      const client = new Client({ connection, namespace });
      const result = await worker.runUntil(
        client.workflow.execute<typeof ping>('ping', {
          taskQueue,
          workflowId: `stack-ping-${suffix}`,
          args: ['stack'],
        }),
      );
      assert.equal(result, 'pong stack');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });

  it('the Temporal Web UI answers over HTTP', async function () {
    const ui = process.env.TEMPORAL_UI_URL;
    if (!ui) this.skip();
    const res = await fetch(ui);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
  });
});
