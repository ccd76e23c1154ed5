import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { ListingSyncClient } from '../../src/client/index.ts';
import type { SyncSummary } from '../../src/shared/types.ts';
import { syncConnectionWorkflowId } from '../../src/shared/workflow-ids.ts';
import { progressQuery, type syncAll, type syncConnection } from '../../src/workflows/index.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import {
  isolatedDb,
  openStack,
  uniqueTaskQueue,
  withWorker,
  type IsolatedDb,
  type TestStack,
} from '../helpers/stack.ts';
import { emulator, makeProducts } from '../helpers/emulator.ts';
import { syncRuns } from '../helpers/events.ts';
import { eventually } from '../helpers/wait.ts';

const run = promisify(execFile);

/** Temporal's HTTP API as an app in any language calls it: plain JSON, payloads in their shorthand JSON form. */
async function http(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, any>> {
  const base = process.env.TEMPORAL_HTTP_URL;
  assert.ok(base, 'TEMPORAL_HTTP_URL: run through scripts/test.sh');
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

/** Long-polls the run's close event over HTTP, as an app waiting for the outcome would. */
async function closeEvent(workflowId: string, timeoutMs = 120_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const page = await http(
      'GET',
      `/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}/history?waitNewEvent=true&historyEventFilterType=HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT`,
    );
    const event = (page.history?.events as Array<Record<string, any>> | undefined)?.[0];
    if (event) return event;
  }
  throw new Error(`${workflowId} did not close within ${timeoutMs / 1000} s`);
}

const counts = (s: Pick<SyncSummary, 'total_aws' | 'imported' | 'matched'>) => [s.total_aws, s.imported, s.matched];

// The integration contract from outside TypeScript (docs/app-contract.md): the same sync started through
// Temporal's HTTP API and through the temporal CLI, run by the TypeScript worker, read back the same way.
describe('starting a sync from outside TypeScript', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let iso: IsolatedDb;
  const tq = uniqueTaskQueue('app-paths');
  before(async () => {
    stack = await openStack();
    iso = await isolatedDb(stack, 'app_paths');
  });
  after(async () => {
    await iso?.close();
    await stack?.close();
  });

  it("over Temporal's HTTP API: start with plain JSON, long-poll the result, a malformed start named", async () => {
    const c = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'SaaSProduct', 4) });
    await withWorker(
      tq,
      async () => {
        const workflowId = syncConnectionWorkflowId(c.connectionId);
        await http('POST', `/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, {
          workflowType: { name: 'syncConnection' },
          taskQueue: { name: tq },
          input: [{ connectionId: c.connectionId }],
          requestId: randomUUID(),
        });
        const closed = await closeEvent(workflowId);
        const result = closed.workflowExecutionCompletedEventAttributes?.result?.[0] as SyncSummary | undefined;
        assert.ok(result, JSON.stringify(closed).slice(0, 500));
        assert.deepEqual(counts(result), [4, 4, 0]);
        assert.equal(await iso.db.collection('listings').countDocuments({ team_id: c.teamId }), 4);

        // A refresh as an event would ask for it, by signal-with-start: the running or a new run syncs again.
        await http(
          'POST',
          `/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}/signal-with-start/refresh`,
          {
            workflowType: { name: 'syncConnection' },
            taskQueue: { name: tq },
            input: [{ connectionId: c.connectionId }],
            signalInput: [{ eventId: 'http-test', detailType: 'Change Set Succeeded', account: c.accountId }],
            requestId: randomUUID(),
          },
        );
        const again = (await closeEvent(workflowId)).workflowExecutionCompletedEventAttributes?.result?.[0];
        assert.deepEqual(counts(again as SyncSummary), [4, 0, 4]);

        const badId = `${workflowId}-malformed`;
        await http('POST', `/api/v1/namespaces/default/workflows/${encodeURIComponent(badId)}`, {
          workflowType: { name: 'syncConnection' },
          taskQueue: { name: tq },
          input: [{ connection_id: c.connectionId }],
          requestId: randomUUID(),
        });
        const failed = (await closeEvent(badId)).workflowExecutionFailedEventAttributes?.failure;
        assert.equal(failed?.applicationFailureInfo?.type, 'InvalidInput', JSON.stringify(failed));
        assert.match(String(failed?.message), /connectionId must be a non-empty string, not missing/);
      },
      { env: { MONGODB_URI: iso.uri } },
    );
  });

  it('connect after the seller fixed the role: the next run reads the connection as saved now', async () => {
    const c = await seedConnection(iso.db, { connection: { external_id: 'not-the-one-in-the-trust-policy' } });
    await withWorker(
      tq,
      async () => {
        const app = ListingSyncClient.fromClient(stack.client, tq);
        const first = await app.connectConnection(c.connectionId);
        const failed = await stack.client.workflow
          .getHandle(first.workflowId)
          .result()
          .then(
            () => assert.fail('the sync with the wrong external ID succeeded'),
            (e: unknown) => e,
          );
        assert.match(String((failed as Error & { cause?: Error }).cause?.message), /AWS denied AssumeRole/);
        // The seller fixes the trust policy's external ID in the app, which saves it and connects again.
        await iso.db
          .collection('connections')
          .updateOne({ _id: c.connectionId as never }, { $set: { external_id: c.externalId } });
        const started = Date.now();
        const again = await app.connectConnection(c.connectionId);
        const summary = (await stack.client.workflow.getHandle(again.workflowId).result()) as SyncSummary;
        assert.equal(summary.imported, 3);
        assert.equal(summary.trigger, 'Refresh after Connect');
        const connection = await iso.db.collection('connections').findOne({ _id: c.connectionId as never });
        assert.equal(connection?.sync?.status, 'succeeded');
        console.log(`      reconnect → succeeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      },
      { env: { MONGODB_URI: iso.uri } },
    );
  });

  it('disconnect: the running sync stops and records Cancelled, listings stay, SyncAll skips it; reconnect syncs', async () => {
    const c = await seedConnection(iso.db, {
      products: (a) => makeProducts(a, 'SaaSProduct', 3),
      faults: { latencyMs: 1_000 },
    });
    const rows = () => iso.db.collection('listings').countDocuments({ team_id: c.teamId });
    const workflowId = syncConnectionWorkflowId(c.connectionId);
    const runsOfSync = async () => (await syncRuns(stack.client, c.connectionId)).length;
    await withWorker(
      tq,
      async () => {
        const app = ListingSyncClient.fromClient(stack.client, tq);
        await stack.client.workflow.getHandle(workflowId, (await app.connectConnection(c.connectionId)).runId).result();
        assert.equal(await rows(), 3);

        // AWS now lists 120 products (past the fast path's two pages); the seller disconnects while the sync lists
        // them on the patient path (a regular activity: the cancel reaches it at once, and so does a query).
        await emulator.setProducts(c.accountId, makeProducts(c.accountId, 'SaaSProduct', 120));
        const { runId } = await app.connectConnection(c.connectionId);
        const handle = stack.client.workflow.getHandle<typeof syncConnection>(workflowId, runId);
        await eventually(
          'the patient listing',
          async () => (await handle.query(progressQuery)).phase === 'listing',
          60_000,
        );
        await iso.db
          .collection('connections')
          .updateOne({ _id: c.connectionId as never }, { $set: { disabled: true } });
        assert.equal(await app.disconnectConnection(c.connectionId), true);
        const ended = await handle.result().then(
          () => assert.fail('the disconnected sync completed'),
          (e: unknown) => e,
        );
        assert.ok(ended instanceof WorkflowFailedError && ended.cause instanceof CancelledFailure, String(ended));
        const connection = await iso.db.collection('connections').findOne({ _id: c.connectionId as never });
        assert.equal(connection?.sync?.status, 'failed');
        assert.equal(connection?.sync?.error?.type, 'Cancelled');
        assert.equal(await rows(), 3, 'no row written after the disconnect, none deleted');
        assert.equal(await app.disconnectConnection(c.connectionId), false, 'nothing left to cancel');

        // SyncAll leaves a disabled connection alone.
        const before = await runsOfSync();
        await stack.client.workflow.execute<typeof syncAll>('syncAll', {
          taskQueue: tq,
          workflowId: `sync-all-${tq}`,
          args: [{ concurrency: 5, batchSize: 100 }],
        });
        assert.equal(await runsOfSync(), before);

        // Reconnect: the app clears disabled and connects; the sync picks up where AWS is now.
        await iso.db
          .collection('connections')
          .updateOne({ _id: c.connectionId as never }, { $unset: { disabled: '' } });
        const again = await app.connectConnection(c.connectionId);
        const summary = (await stack.client.workflow.getHandle(workflowId, again.runId).result()) as SyncSummary;
        assert.deepEqual(counts(summary), [120, 117, 3]);
        assert.equal(await rows(), 120);
      },
      { env: { MONGODB_URI: iso.uri } },
    );
  });

  it('with the Go SDK: examples/go-connect connects, waits for the result and prints the summary', async function () {
    this.timeout(300_000);
    // Built like the stack's other Go tools; the module cache makes a second build take a second or two.
    const binary = new URL('../../.tools/bin/go-connect', import.meta.url).pathname;
    const source = new URL('../../examples/go-connect/', import.meta.url).pathname;
    await run('go', ['build', '-o', binary, '.'], { cwd: source, env: process.env });
    const c = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'ContainerProduct', 5) });
    await withWorker(
      tq,
      async () => {
        const { stdout } = await run(binary, [c.connectionId], { env: { ...process.env, TEMPORAL_TASK_QUEUE: tq } });
        const fromGo = JSON.parse(stdout) as SyncSummary;
        assert.deepEqual(counts(fromGo), [5, 5, 0]);
        assert.equal(fromGo.trigger, 'Refresh after Connect');
        // The same run's result as the TypeScript client reads it.
        const fromTs = await stack.client.workflow.getHandle(syncConnectionWorkflowId(c.connectionId)).result();
        assert.deepEqual(fromGo, fromTs);
        assert.equal(await iso.db.collection('listings').countDocuments({ team_id: c.teamId }), 5);

        // A malformed start from Go (a number for connectionId) fails at once, named.
        const bad = await run(binary, [`${c.connectionId}-malformed`, '{"connectionId": 7}'], {
          env: { ...process.env, TEMPORAL_TASK_QUEUE: tq },
        }).then(
          () => assert.fail('the malformed start succeeded'),
          (e: { stderr?: string }) => e.stderr ?? '',
        );
        assert.match(bad, /sync failed: InvalidInput: .*connectionId must be a non-empty string, not 7/, bad);
      },
      { env: { MONGODB_URI: iso.uri } },
    );
  });

  it('with the temporal CLI: workflow start, then workflow result as JSON', async () => {
    const cliPath = process.env.TEMPORAL_CLI_PATH;
    assert.ok(cliPath, 'TEMPORAL_CLI_PATH: run through scripts/test.sh');
    const c = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'AmiProduct', 3) });
    const workflowId = syncConnectionWorkflowId(c.connectionId);
    const common = ['--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default'];
    await withWorker(
      tq,
      async () => {
        await run(cliPath, [
          'workflow',
          'start',
          ...common,
          '--task-queue',
          tq,
          '--type',
          'syncConnection',
          '--workflow-id',
          workflowId,
          '--input',
          JSON.stringify({ connectionId: c.connectionId }),
        ]);
        const { stdout } = await run(cliPath, [
          'workflow',
          'result',
          ...common,
          '--workflow-id',
          workflowId,
          '-o',
          'json',
        ]);
        const out = JSON.parse(stdout) as { status?: string; result?: SyncSummary };
        assert.equal(out.status, 'COMPLETED', stdout);
        assert.deepEqual(counts(out.result!), [3, 3, 0]);

        // A malformed start from the CLI (a number for connectionId) fails at once, named.
        const badId = `${workflowId}-malformed`;
        const start = ['workflow', 'start', ...common, '--task-queue', tq, '--type', 'syncConnection'];
        await run(cliPath, [...start, '--workflow-id', badId, '--input', '{"connectionId": 42}']);
        const bad = await run(cliPath, ['workflow', 'result', ...common, '--workflow-id', badId, '-o', 'json']).then(
          (r) => r.stdout,
          (e: { stdout?: string }) => e.stdout ?? '',
        );
        assert.match(bad, /InvalidInput/, bad);
        assert.match(bad, /connectionId must be a non-empty string, not 42/, bad);
      },
      { env: { MONGODB_URI: iso.uri } },
    );
  });
});
