import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { createActivities } from '../src/activities/index.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { ENTITY_TYPES } from '../src/domain/entity-types.ts';
import type { ListEntitiesResult } from '../src/shared/types.ts';
import { mockActivityEnv, runActivity } from '../test/helpers/activity-env.ts';
import { createWorker, createWorkerResources, runPromoted } from '../src/worker/create-worker.ts';
import type { syncAll } from '../src/workflows/index.ts';
import { startStack } from '../scripts/stack.ts';
import { catalogOf, minimumCalls, parseMix, productsIn } from './lib/catalog-mix.ts';
import { baselineTree, startWorkerProcess } from './lib/worker-process.ts';
import { cpuSeconds, histogramSums, pidListeningOn } from './lib/process-cpu.ts';
import { freePort } from '../scripts/stack.ts';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    products: { type: 'string', default: '0' },
    latency: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '50' },
    'batch-size': { type: 'string', default: '1000' },
    'skip-loop': { type: 'boolean', default: false },
    hung: { type: 'string', default: '0' },
    baseline: { type: 'string' },
    // ab: the baseline, then this checkout. abba: twice, in both orders, so that whatever the first run leaves
    // behind on the shared servers (Temporal's growing database) weighs on both sides alike.
    order: { type: 'string', default: 'ab' },
  },
});
const N = Number(args.connections);
const mix = parseMix(args.products);
const catalogs = Array.from({ length: N }, (_, i) => catalogOf(mix, i, N));
const totalProducts = catalogs.reduce((n, c) => n + productsIn(c), 0);
const latencyMs = Number(args.latency);
const concurrency = Number(args.concurrency);
const batchSize = Number(args['batch-size']);
// The first H connections get a ListEntities endpoint that never answers: they fail by name after their retry
// budget, and the figure that matters is how long the others took.
const H = Number(args.hung);

Runtime.install({ logger: new DefaultLogger('WARN') });

// The worker under test loads a prebuilt bundle, as in production (see README); bundling runs in its own process.
const bundlePath = `.data/bench-workflow-bundle.js`;
execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', bundlePath], { stdio: 'ignore' });
process.env.WORKFLOW_BUNDLE_PATH = bundlePath;

const ownStack = process.env.TEMPORAL_ADDRESS ? null : await startStack({ mode: 'test', dataDir: '.data/bench' });
if (ownStack) Object.assign(process.env, ownStack.env);
const adminUrl = process.env.EMULATOR_ADMIN_URL!;

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${adminUrl}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const stamp = Date.now();
const accountId = (i: number) => String(700_000_000_000 + i);
function configFor(db: string): Config {
  const url = new URL(process.env.MONGODB_URI!);
  url.pathname = `/${db}`;
  return loadConfig({ ...process.env, MONGODB_URI: url.toString(), TEMPORAL_TASK_QUEUE: `bench-${stamp}` });
}

async function seed(config: Config) {
  const mongo = await new MongoClient(config.mongo.uri).connect();
  const docs = Array.from({ length: N }, (_, i) => ({
    _id: `bench-${String(i).padStart(6, '0')}` as never,
    team_id: `bench-team-${i}`,
    provider: 'aws',
    iam_role_arn: `arn:aws:iam::${accountId(i)}:role/ListingSync`,
    external_id: `ext-${accountId(i)}`,
  }));
  for (let i = 0; i < docs.length; i += 5_000)
    await mongo
      .db(config.mongo.dbName)
      .collection('connections')
      .insertMany(docs.slice(i, i + 5_000));
  await mongo.close();
}

/** Per connection: one AssumeRole, every type's pages of 50 (one at least), one describe per 20 products. */
function minimumAwsCalls(): { total: number; describe: number } {
  return catalogs.map(minimumCalls).reduce((a, b) => ({ total: a.total + b.total, describe: a.describe + b.describe }));
}

async function awsCalls(): Promise<{ total: number; describe: number; byOperation: Record<string, number> }> {
  const stats = await admin('GET', 'stats');
  const calls = stats.calls as Record<string, number>;
  return {
    total: Object.values(calls).reduce((a, b) => a + b, 0),
    describe: calls.BatchDescribeEntities ?? 0,
    byOperation: calls,
  };
}

console.log(
  `Seeding the emulator with ${N} accounts, ${totalProducts} products (${args.products}; latency ${latencyMs} ms)...`,
);
for (let i = 0; i < N; i += 2_000) {
  const accounts = [];
  for (let j = i; j < Math.min(N, i + 2_000); j += 1) {
    accounts.push({
      accountId: accountId(j),
      roles: [{ name: 'ListingSync', externalId: `ext-${accountId(j)}` }],
      generate: catalogs[j],
      faults: {
        ...(latencyMs > 0 ? { latencyMs } : {}),
        ...(j < H ? { hang: { operations: ['ListEntities'] } } : {}),
      },
    });
  }
  await admin('POST', 'accounts', { accounts });
}

interface Figures {
  seconds: number;
  awsCalls: { total: number; describe: number; byOperation: Record<string, number> };
  mongoRoundTrips: number;
  peakRssMb?: number;
  maxHistoryEvents?: number;
  runs?: number;
  totals?: unknown;
  /** Seconds from the start until the last connection that was not hung finished. */
  othersDoneSeconds?: number;
}

async function withMonitoredResources<T>(
  config: Config,
  fn: (r: Awaited<ReturnType<typeof createWorkerResources>>, count: () => number) => Promise<T>,
) {
  const resources = await createWorkerResources(config, { mongoOptions: { monitorCommands: true } });
  let commands = 0;
  resources.mongo.on('commandStarted', (e: CommandStartedEvent) => {
    if (!['hello', 'isMaster', 'ping', 'endSessions', 'createIndexes'].includes(e.commandName)) commands += 1;
  });
  try {
    return await fn(resources, () => commands);
  } finally {
    await resources.close();
  }
}

async function temporalRun(): Promise<Figures> {
  const config = configFor(`bench_temporal_${stamp}`);
  await seed(config);
  await admin('POST', 'stats/reset');
  return withMonitoredResources(config, async (resources, commands) => {
    const nativeConnection = await NativeConnection.connect(config.temporal.connection);
    const worker = await createWorker(config, nativeConnection, resources.deps);
    const connection = await Connection.connect(config.temporal.connection);
    const client = new Client({ connection, namespace: config.temporal.namespace });
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    const workflowId = `bench-sync-all-${stamp}`;
    const started = Date.now();
    const result = await runPromoted(
      config,
      nativeConnection,
      worker,
      (async () => {
        const handle = await client.workflow.start<typeof syncAll>('syncAll', {
          taskQueue: config.temporal.taskQueue,
          workflowId,
          args: [{ concurrency, batchSize }],
        });
        return await handle.result();
      })(),
    );
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const hungIds = Array.from({ length: H }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
    const lastOther = await resources.deps.db
      .collection<{ _id: string; sync?: { finished_at: Date } }>('connections')
      .find({ _id: { $nin: hungIds } }, { sort: { 'sync.finished_at': -1 }, limit: 1 })
      .next();
    let maxHistoryEvents = 0;
    let runs = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      runs += 1;
      maxHistoryEvents = Math.max(maxHistoryEvents, wf.historyLength);
    }
    await connection.close();
    await nativeConnection.close();
    return {
      seconds,
      awsCalls: await awsCalls(),
      mongoRoundTrips: commands(),
      peakRssMb: Math.round(peakRss / 1024 / 1024),
      maxHistoryEvents,
      runs,
      totals: result?.totals,
      othersDoneSeconds: lastOther?.sync ? (lastOther.sync.finished_at.getTime() - started) / 1000 : seconds,
    };
  });
}

/** The same per-connection work (status write, AssumeRole, 4 ListEntities, reconcile) in a plain loop. */
async function plainLoop(): Promise<Figures> {
  const config = configFor(`bench_loop_${stamp}`);
  await seed(config);
  await admin('POST', 'stats/reset');
  return withMonitoredResources(config, async (resources, commands) => {
    const acts = createActivities(resources.deps);
    // Logs at the worker's level (WARN), so neither side pays for logging the other skips.
    const call = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...a: A) =>
      runActivity(fn, mockActivityEnv(), ...a);
    const ids = Array.from({ length: N }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
    let next = 0;
    let failed = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) {
          const connectionId = ids[next++]!;
          const ref = { connectionId, workflowId: `loop-${connectionId}`, runId: `loop-${stamp}-${connectionId}` };
          try {
            const role = await call(acts.assumeRole, ref);
            const lists: ListEntitiesResult[] = await Promise.all(
              ENTITY_TYPES.map((entityType) => call(acts.listEntities, { ...ref, entityType })),
            );
            await call(acts.reconcile, { ...ref, teamId: role.teamId, lists });
          } catch {
            failed += 1;
          }
        }
      }),
    );
    if (failed > 0) console.log(`plain loop: ${failed} connections failed`);
    return { seconds: (Date.now() - started) / 1000, awsCalls: await awsCalls(), mongoRoundTrips: commands() };
  });
}

if (args.baseline) {
  await compareWithBaseline(args.baseline);
  await ownStack?.stop();
  process.exit(0);
}

console.log(`SyncAll on Temporal: ${N} connections, concurrency ${concurrency}, batch ${batchSize}...`);
const temporal = await temporalRun();
const loop = args['skip-loop'] ? null : (console.log('Plain in-process loop, same servers...'), await plainLoop());

const min = minimumAwsCalls();
const rows: Array<[string, string]> = [
  ['connections, products', `${N}, ${totalProducts} (${args.products}), emulator latency ${latencyMs} ms`],
  ['SyncAll wall time', `${temporal.seconds.toFixed(1)} s (${(N / temporal.seconds).toFixed(1)} connections/s)`],
  ...(H > 0
    ? [
        ['others done (hung excluded)', `${temporal.othersDoneSeconds?.toFixed(1)} s after the start`] as [
          string,
          string,
        ],
      ]
    : []),
  [
    'plain loop wall time',
    loop ? `${loop.seconds.toFixed(1)} s (${(N / loop.seconds).toFixed(1)} connections/s)` : 'skipped',
  ],
  ['ratio SyncAll / loop', loop ? `${(temporal.seconds / loop.seconds).toFixed(2)}x` : 'n/a'],
  [
    'AWS calls (SyncAll)',
    `${temporal.awsCalls.total} (minimum ${min.total}) ${JSON.stringify(temporal.awsCalls.byOperation)}`,
  ],
  ['BatchDescribeEntities (SyncAll)', `${temporal.awsCalls.describe} (minimum ${min.describe})`],
  ['AWS calls (loop)', loop ? `${loop.awsCalls.total} (minimum ${min.total})` : 'n/a'],
  [
    'MongoDB round trips / connection',
    `${(temporal.mongoRoundTrips / N).toFixed(2)} (loop ${loop ? (loop.mongoRoundTrips / N).toFixed(2) : 'n/a'})`,
  ],
  ['peak worker RSS', `${temporal.peakRssMb} MB`],
  ['SyncAll runs / max history events', `${temporal.runs} / ${temporal.maxHistoryEvents}`],
  ['totals', JSON.stringify(temporal.totals)],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log('\n' + rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
await ownStack?.stop();
process.exit(0);

interface SideFigures {
  label: string;
  seconds: number | null;
  awsCalls: number;
  describe: number;
  peakRssMb: number;
  runs: number;
  maxHistoryEvents: number;
  succeeded: number;
  listings: number;
  /** CPU seconds each server and the worker spent on this side's run. */
  cpu: Record<string, number>;
  /** Worker seconds per sync step (summed over connections; steps overlap across connections). */
  steps: Record<string, number>;
}

/**
 * `--baseline <ref>`: the same SyncAll by a worker process of `ref` and one of this checkout, back to back on the
 * same servers, each on a fresh database and a task queue of its own, so a regression shows in one run. Both sides
 * run as processes (their in-process APIs may differ); MongoDB round trips are measured in the default mode only.
 */
async function compareWithBaseline(ref: string): Promise<void> {
  const root = process.cwd();
  const base = baselineTree(root, ref);
  const baseline = { label: `${base.commit} (baseline)`, tree: base.tree, bundle: base.bundle };
  const working = { label: 'working tree', tree: root, bundle: bundlePath };
  if (args.order !== 'ab' && args.order !== 'abba') throw new Error('--order takes ab or abba');
  const sides =
    args.order === 'abba'
      ? [
          { ...baseline, label: `${baseline.label} 1` },
          { ...working, label: `${working.label} 1` },
          { ...working, label: `${working.label} 2` },
          { ...baseline, label: `${baseline.label} 2` },
        ]
      : [baseline, working];
  const connection = await Connection.connect(loadConfig().temporal.connection);
  const client = new Client({ connection });
  const results: SideFigures[] = [];
  const portOf = (url: string | undefined) =>
    url ? Number(new URL(url.includes('://') ? url : `x://${url}`).port) : 0;
  const servers = {
    temporal: pidListeningOn(portOf(process.env.TEMPORAL_ADDRESS)),
    mongo: pidListeningOn(portOf(process.env.MONGODB_URI)),
    emulator: pidListeningOn(portOf(process.env.AWS_ENDPOINT_URL_STS)),
  };
  for (const [i, side] of sides.entries()) {
    const config = configFor(`bench_side${i}_${stamp}`);
    const taskQueue = `bench-side${i}-${stamp}`;
    await seed(config);
    await admin('POST', 'stats/reset');
    console.log(`${side.label}: SyncAll of ${N} connections, ${totalProducts} products...`);
    const metricsPort = await freePort();
    const worker = await startWorkerProcess(
      side.tree,
      side.bundle,
      {
        ...process.env,
        MONGODB_URI: config.mongo.uri,
        TEMPORAL_TASK_QUEUE: taskQueue,
        TEMPORAL_DEPLOYMENT_NAME: `bench-side${i}-${stamp}`,
        WORKER_PROMOTE_ON_START: 'true',
        METRICS_BIND_ADDRESS: `127.0.0.1:${metricsPort}`,
      },
      async () =>
        ((
          await client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: taskQueue },
            taskQueueType: 1, // workflow
          })
        ).pollers?.length ?? 0) > 0,
    );
    const workflowId = `bench-sync-all-${i}-${stamp}`;
    const pids = { ...servers, worker: worker.pid };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const started = Date.now();
    const handle = await client.workflow.start<typeof syncAll>('syncAll', {
      taskQueue,
      workflowId,
      args: [{ concurrency, batchSize }],
    });
    const limitMs = Number(process.env.BENCH_LIMIT_SECONDS ?? 600) * 1000;
    const outcome = await Promise.race([
      handle.result().then((r) => ({ done: true as const, r })),
      new Promise<{ done: false }>((resolve) => setTimeout(() => resolve({ done: false }), limitMs)),
    ]);
    const seconds = outcome.done ? (Date.now() - started) / 1000 : null;
    const calls = await awsCalls();
    const peakRssMb = worker.peakRssMb();
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) - (cpuBefore[k] ?? 0)]));
    const metricsText = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    const steps = histogramSums(metricsText, 'listing_sync_step_seconds', 'step');
    let runs = 0;
    let maxHistoryEvents = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      runs += 1;
      maxHistoryEvents = Math.max(maxHistoryEvents, wf.historyLength);
    }
    if (!outcome.done) await handle.terminate('benchmark time limit').catch(() => undefined);
    await worker.stop();
    const mongo = await new MongoClient(config.mongo.uri).connect();
    const listings = await mongo.db(config.mongo.dbName).collection('listings').countDocuments();
    const succeeded = await mongo
      .db(config.mongo.dbName)
      .collection('connections')
      .countDocuments({ 'sync.status': 'succeeded' });
    await mongo.close();
    results.push({
      label: side.label,
      seconds,
      awsCalls: calls.total,
      describe: calls.describe,
      peakRssMb,
      runs,
      maxHistoryEvents,
      succeeded,
      listings,
      cpu,
      steps,
    });
  }
  await connection.close();
  const min = minimumAwsCalls();
  const table: Array<[string, ...string[]]> = [
    ['', ...results.map((r) => r.label)],
    [
      'SyncAll wall time',
      ...results.map((r) =>
        r.seconds === null ? `not done in ${process.env.BENCH_LIMIT_SECONDS ?? 600} s` : `${r.seconds.toFixed(1)} s`,
      ),
    ],
    ['connections/s', ...results.map((r) => (r.seconds ? (N / r.seconds).toFixed(1) : '-'))],
    ['connections succeeded', ...results.map((r) => `${r.succeeded} / ${N}`)],
    ['listings written', ...results.map((r) => `${r.listings} / ${totalProducts}`)],
    ['AWS calls (minimum ' + min.total + ')', ...results.map((r) => String(r.awsCalls))],
    ['BatchDescribeEntities (min ' + min.describe + ')', ...results.map((r) => String(r.describe))],
    ['peak worker RSS', ...results.map((r) => `${r.peakRssMb} MB`)],
    ['SyncAll runs / max events', ...results.map((r) => `${r.runs} / ${r.maxHistoryEvents}`)],
    ...['worker', 'temporal', 'mongo', 'emulator'].map((k): [string, ...string[]] => [
      `CPU s: ${k}`,
      ...results.map((r) => (r.cpu[k] ?? 0).toFixed(1)),
    ]),
    ...['assume_role', 'list', 'reconcile_read', 'describe', 'reconcile_write'].map((k): [string, ...string[]] => [
      `step s (sum): ${k}`,
      ...results.map((r) => (k in r.steps ? r.steps[k]!.toFixed(1) : '-')),
    ]),
  ];
  if (args.order === 'abba') {
    const mean = (xs: Array<number | null>) =>
      xs.every((x) => x !== null) ? `${((xs[0]! + xs[1]!) / 2).toFixed(1)} s` : '-';
    const [b1, w1, w2, b2] = results.map((r) => r.seconds);
    table.splice(2, 0, [
      'mean wall time (baseline / working tree)',
      mean([b1 ?? null, b2 ?? null]),
      mean([w1 ?? null, w2 ?? null]),
      '',
      '',
    ]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length)));
  console.log(
    `\n${N} connections, ${totalProducts} products (--products ${args.products}), concurrency ${concurrency}, batch ${batchSize}\n` +
      table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n'),
  );
}
