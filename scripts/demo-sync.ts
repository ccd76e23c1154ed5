import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { MongoClient } from 'mongodb';
import { ListingSyncClient } from '../src/client/index.ts';
import { ensureSchedule } from '../src/client/schedule.ts';
import { loadConfig } from '../src/config.ts';
import { testCatalogEvent } from '../src/domain/catalog-event.ts';
import { sqsClientFromConfig } from '../src/events/sqs.ts';

// Matches the demo seller in emulator/data/demo-catalog.json.
const DEMO_CONNECTION = {
  _id: 'demo-connection',
  team_id: 'demo-team',
  provider: 'aws',
  iam_role_arn: 'arn:aws:iam::123456789012:role/ListingSyncReadOnly',
  external_id: 'ls-demo-7f3a9c2e41d8',
  aws_account_id: '123456789012',
};

// A second seller whose role does not trust this external ID: its run shows a failure in the UI.
const DENIED_CONNECTION = {
  _id: 'demo-connection-denied',
  team_id: 'demo-team-2',
  provider: 'aws',
  iam_role_arn: 'arn:aws:iam::210987654321:role/ListingSyncReadOnly',
  external_id: 'ls-stale-external-id',
};

const config = loadConfig();
const mongo = await new MongoClient(config.mongo.uri).connect();
const connections = mongo.db(config.mongo.dbName).collection<{ _id: string }>('connections');
for (const { _id, ...fields } of [DEMO_CONNECTION, DENIED_CONNECTION]) {
  await connections.updateOne({ _id }, { $set: fields }, { upsert: true });
}
await mongo.close();

const app = await ListingSyncClient.connect(config);
const schedule = await ensureSchedule(app.client, { taskQueue: config.temporal.taskQueue });
console.log(`Schedule sync-marketplace-listings: ${schedule} (every 6 hours)`);

const { workflowId, handle } = await app.startConnectionSync(DEMO_CONNECTION._id);
const { runId } = await handle.describe();
console.log(`Started ${workflowId}; watch it at ${app.uiLink(workflowId, runId) ?? '(no TEMPORAL_UI_URL set)'}`);
const summary = await handle.result();
console.log('Demo sync summary:');
console.log(JSON.stringify(summary, null, 2));
console.log(`Run: ${app.uiLink(workflowId, runId) ?? workflowId}`);

const denied = await app.startConnectionSync(DENIED_CONNECTION._id);
const failure = await denied.handle.result().then(
  () => 'unexpectedly succeeded',
  (err: unknown) => String((err as { cause?: { message?: string } }).cause?.message ?? err),
);
console.log(`\nA connection with a stale external ID fails as a seller would see it:\n  ${failure}`);
console.log(`  ${app.uiLink(denied.workflowId) ?? denied.workflowId}`);

// A change in the seller's AWS account, as EventBridge delivers it: the worker's poller refreshes the connection.
if (config.events.queueUrl) {
  const sqs = sqsClientFromConfig(config);
  const event = testCatalogEvent(DEMO_CONNECTION.aws_account_id, { id: randomUUID(), time: new Date() });
  await sqs.send(new SendMessageCommand({ QueueUrl: config.events.queueUrl, MessageBody: JSON.stringify(event) }));
  sqs.destroy();
  const refreshed = app.client.workflow.getHandle(workflowId);
  for (let i = 0; i < 100; i++) {
    const description = await refreshed.describe();
    if (description.runId !== runId && description.status.name === 'COMPLETED') {
      const result = await refreshed.result();
      console.log(`\nA Catalog event on the queue started "${result.trigger}" of the demo connection:`);
      console.log(`  ${app.uiLink(workflowId, description.runId) ?? workflowId}`);
      break;
    }
    await delay(200);
  }
  console.log('  Send another: set -a; . .data/local/cli.env; set +a; npx listing-sync events send-test 123456789012');
}
await app.close();
