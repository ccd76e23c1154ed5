import { MongoClient } from 'mongodb';
import { ListingSyncClient } from '../src/client/index.ts';
import { ensureSchedule } from '../src/client/schedule.ts';
import { loadConfig } from '../src/config.ts';

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
await app.close();
