import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config.ts';
import { verifyBuild } from '../src/deploy/verify.ts';
import { loadWorkflowCode } from '../src/worker/deployment.ts';
import { createWorker, createWorkerResources, runPromoted } from '../src/worker/create-worker.ts';
import { syncConnectionWorkflowId } from '../src/shared/workflow-ids.ts';
import type { syncConnection } from '../src/workflows/index.ts';
import { emulator, makeProducts } from '../test/helpers/emulator.ts';

// How long `listing-sync deploy verify` takes, and how much memory, over N open runs with realistic mid-run
// histories: syncs caught mid-flight (ListEntities never answers: each run has assumed its role and waits on its listing for minutes; the worker then stops), so each run is open with its
// role assumed, its listing under way.
//   node --import tsx scripts/stack.ts exec node --import tsx bench/deploy-verify.ts [--runs 1000]
const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' } } });
const runs = Number(values.runs);
Runtime.install({ logger: new DefaultLogger('ERROR') });
const stamp = Date.now();
const tq = `bench-verify-${stamp}`;
const base = loadConfig();
const uri = new URL(base.mongo.uri);
uri.pathname = `/bench_verify_${stamp}`;
// Every run's first task and its AssumeRole at once (the worker's defaults hold 40 tasks and 200 local activities).
const config = loadConfig({
  ...process.env,
  TEMPORAL_TASK_QUEUE: tq,
  MONGODB_URI: uri.toString(),
  LOG_LEVEL: 'ERROR',
  WORKER_MAX_LOCAL_ACTIVITIES: String(runs + 100),
  WORKER_MAX_WORKFLOW_TASKS: '1000',
  WORKER_MAX_CACHED_WORKFLOWS: String(runs + 200),
  AWS_REQUEST_TIMEOUT_MS: '120000',
});

const accounts = Array.from({ length: runs }, (_, i) => {
  const accountId = String(700_000_000_000 + (stamp % 1_000_000) * 1_000 + i).slice(-12);
  return { accountId, externalId: `ext-${accountId}` };
});
await emulator.putAccounts(
  accounts.map(({ accountId, externalId }) => ({
    accountId,
    roles: [{ name: 'ListingSyncReadOnly', externalId }],
    products: makeProducts(accountId, 'SaaSProduct', 2),
    faults: { hang: { operations: ['ListEntities'] } },
  })),
);
const resources = await createWorkerResources(config);
await resources.deps.db.collection('connections').insertMany(
  accounts.map(({ accountId, externalId }) => ({
    _id: `verify-${accountId}` as never,
    team_id: `team-${accountId}`,
    provider: 'aws',
    iam_role_arn: `arn:aws:iam::${accountId}:role/ListingSyncReadOnly`,
    external_id: externalId,
    aws_account_id: accountId,
  })),
);
const connection = await Connection.connect(config.temporal.connection);
const client = new Client({ connection, namespace: config.temporal.namespace });
const native = await NativeConnection.connect(config.temporal.connection);
const worker = await createWorker(config, native, resources.deps);

const open = () => client.workflow.count(`TaskQueue = '${tq}' AND ExecutionStatus = 'Running'`);
await runPromoted(
  config,
  native,
  worker,
  (async () => {
    for (let i = 0; i < runs; i += 50) {
      await Promise.all(
        accounts.slice(i, i + 50).map(({ accountId }) =>
          client.workflow.start<typeof syncConnection>('syncConnection', {
            taskQueue: tq,
            workflowId: syncConnectionWorkflowId(`verify-${accountId}`),
            args: [{ connectionId: `verify-${accountId}` }],
          }),
        ),
      );
    }
    // Every run past its fast path and into the patient listing: the shape of a sync caught mid-flight.
    // The worker then stops, so the histories hold still while they are verified, as open runs.
    // Every run has assumed its role and is listing; none can get further while ListEntities hangs.
    for (let i = 0; i < 1200 && ((await emulator.stats()).calls.AssumeRole ?? 0) < runs; i += 1) await delay(250);
    await delay(1_000);
  })(),
);
await native.close();
const openRuns = (await open()).count;
const { code, version } = await loadWorkflowCode(config);
const rssBefore = Math.round(process.memoryUsage().rss / 1024 / 1024);
const report = await verifyBuild(client, { code, buildId: version.buildId, taskQueue: tq, closedWithinHours: 0 });
console.log(
  JSON.stringify({
    openRuns,
    replayed: report.replayed,
    events: report.events,
    wouldStrand: report.wouldStrand.length,
    seconds: Number(report.seconds.toFixed(1)),
    perRunMs: Number(((report.seconds * 1000) / Math.max(1, report.replayed)).toFixed(1)),
    rssBeforeMb: rssBefore,
    peakRssMb: report.peakRssMb,
  }),
);
for await (const wf of client.workflow.list({ query: `TaskQueue = '${tq}' AND ExecutionStatus = 'Running'` }))
  await client.workflow.getHandle(wf.workflowId).terminate('benchmark over');
await connection.close();
await resources.close();
