import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { ListingSyncClient } from '../../src/client/index.ts';
import { freePort } from '../../scripts/stack.ts';
import { makeProducts } from '../helpers/emulator.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import { openStack, uniqueTaskQueue, type TestStack } from '../helpers/stack.ts';
import { runCli } from '../helpers/cli.ts';
import { testQueues, testSqsClient } from '../helpers/events.ts';
import { ensureBuilt, type Build } from '../helpers/build.ts';
import type { SyncSummary } from '../../src/shared/types.ts';

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.trim().split(/\s+/).at(-1));
  }
  return 0;
}

describe('the worker process (npm run worker): metrics, JSON logs, graceful shutdown', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let worker: ChildProcess | undefined;
  let build: Build;
  before(async () => {
    build = ensureBuilt();
    stack = await openStack();
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await stack?.close();
  });

  it('serves the product counters on its Prometheus endpoint and logs JSON lines with run ids', async () => {
    const tq = uniqueTaskQueue('process');
    const port = await freePort();
    const conn = await seedConnection(stack.db, {
      products: (a) => [...makeProducts(a, 'SaaSProduct', 60), ...makeProducts(a, 'AmiProduct', 2)],
    });
    let stdout = '';
    worker = spawn(process.execPath, [build.worker], {
      env: {
        ...process.env,
        WORKFLOW_BUNDLE_PATH: build.workflowBundle,
        TEMPORAL_TASK_QUEUE: tq,
        METRICS_BIND_ADDRESS: `127.0.0.1:${port}`,
        LOG_LEVEL: 'INFO',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    worker.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', resolve));
    for (let i = 0; i < 150 && !stdout.includes('Worker started'); i += 1) await delay(200);
    assert.ok(stdout.includes('Worker started'), `the worker started:\n${stdout}`);

    const summary = await ListingSyncClient.fromClient(stack.client, tq).syncConnectionNow(conn.connectionId);
    assert.equal(summary.imported, 62);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.equal(metricValue(metrics, 'listing_sync_aws_calls', { operation: 'AssumeRole', outcome: 'ok' }), 1);
    assert.equal(metricValue(metrics, 'listing_sync_aws_calls', { operation: 'ListEntities', outcome: 'ok' }), 5);
    assert.equal(metricValue(metrics, 'listing_sync_syncs', { outcome: 'succeeded' }), 1);
    assert.equal(metricValue(metrics, 'listing_sync_listings_written', { kind: 'imported' }), 62);
    assert.ok(metrics.includes('temporal_'), 'the SDK runtime metrics are served too');

    const findLine = () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.message === 'Reconciled');
    for (let i = 0; i < 50 && !findLine(); i += 1) await delay(100);
    const reconciled = findLine();
    assert.ok(reconciled, `a JSON "Reconciled" line in:\n${stdout}`);
    assert.equal(reconciled.connectionId, conn.connectionId);
    assert.equal(reconciled.workflowId, `sync-connection-${conn.connectionId}`);
    assert.ok(typeof reconciled.workflowRunId === 'string');
    assert.equal(reconciled.imported, 62);

    worker.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM drains the worker and exits cleanly');
    worker = undefined;
  });

  it('polls the Catalog event queue when EVENTS_QUEUE_URL is set: events send-test refreshes the connection', async () => {
    const tq = uniqueTaskQueue('process-events');
    const port = await freePort();
    const sqs = testSqsClient();
    const { queueUrl, deadLetterQueueUrl } = await testQueues(sqs, 'process');
    const conn = await seedConnection(stack.db);
    const env = {
      ...process.env,
      TEMPORAL_TASK_QUEUE: tq,
      EVENTS_QUEUE_URL: queueUrl,
      EVENTS_DLQ_URL: deadLetterQueueUrl,
    };
    let stdout = '';
    worker = spawn(process.execPath, [build.worker], {
      env: {
        ...env,
        WORKFLOW_BUNDLE_PATH: build.workflowBundle,
        METRICS_BIND_ADDRESS: `127.0.0.1:${port}`,
        LOG_LEVEL: 'INFO',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    worker.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', resolve));
    for (let i = 0; i < 150 && !stdout.includes('Polling the Catalog event queue'); i += 1) await delay(200);
    assert.ok(stdout.includes('Polling the Catalog event queue'), `the poller started:\n${stdout}`);

    const cli = (...args: string[]) => runCli(args, env);
    const sent = await cli('events', 'send-test', conn.accountId, '--detail-type', 'Change Set Succeeded');
    assert.equal(sent.code, 0, sent.out);
    assert.match(sent.out, new RegExp(`Sent "Change Set Succeeded" for account ${conn.accountId}`));

    const handle = stack.client.workflow.getHandle(`sync-connection-${conn.connectionId}`);
    let summary: SyncSummary | undefined;
    for (let i = 0; i < 100 && !summary; i += 1) {
      summary = await handle.result().catch(async () => {
        await delay(200);
        return undefined;
      });
    }
    assert.equal(summary?.trigger, 'Refresh after Change Set Succeeded');
    assert.equal(summary?.imported, 3);

    let events = 0;
    for (let i = 0; i < 50 && events === 0; i += 1) {
      events = metricValue(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'listing_sync_events', {
        outcome: 'refreshed',
      });
      if (events === 0) await delay(100);
    }
    assert.equal(events, 1);
    const line = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'Refresh requested by a Catalog event');
    assert.equal(line?.connectionId, conn.connectionId);
    assert.equal(line?.account, conn.accountId);

    const status = await cli('events', 'status', '--json');
    assert.equal(status.code, 0, status.out);
    const depth = JSON.parse(status.out.trim().split('\n').at(-1)!) as {
      queue: { waiting: number };
      deadLetterQueue: { waiting: number };
    };
    assert.equal(depth.queue.waiting, 0);
    assert.equal(depth.deadLetterQueue.waiting, 0);

    const stopping = Date.now();
    worker.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM ends the long poll and the worker exits cleanly');
    assert.ok(Date.now() - stopping < 15_000, `stopped in ${Date.now() - stopping} ms`);
    worker = undefined;
    sqs.destroy();
  });

  it('exports OpenTelemetry spans of workflows and activities when an OTLP endpoint is set', async () => {
    const tq = uniqueTaskQueue('otel');
    const bodies: string[] = [];
    const collector = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as { port: number };
    const conn = await seedConnection(stack.db);
    let stdout = '';
    // From source: tracing needs its interceptors bundled at start (not with WORKFLOW_BUNDLE_PATH), and the compiled
    // worker would point webpack at dist/workflows/index.ts, which tsc does not emit.
    worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
      env: { ...process.env, TEMPORAL_TASK_QUEUE: tq, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    worker.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', resolve));
    for (let i = 0; i < 150 && !stdout.includes('Worker started'); i += 1) await delay(200);
    assert.match(stdout, /"tracing":true/);

    await ListingSyncClient.fromClient(stack.client, tq).syncConnectionNow(conn.connectionId);
    worker.kill('SIGTERM');
    assert.equal(await exited, 0);
    worker = undefined;
    collector.close();

    const spans = bodies.join('\n');
    assert.ok(spans.includes('RunWorkflow:syncConnection'), `workflow span exported: ${spans.slice(0, 500)}`);
    for (const step of ['assumeRole', 'listFirstPages', 'reconcile']) {
      assert.ok(spans.includes(`StartActivity:${step}`), `a span for ${step}`);
    }
    assert.ok(spans.includes('listing-sync-worker'), 'the service name is set');
  });
});
