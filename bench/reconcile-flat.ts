// Is a connection's sync flat in the size of `listings`? Times the sync of fresh connections (5 products each:
// AssumeRole, the four ListEntities, the reconcile with its describe) with 10,000 and then 100,000 rows of other
// teams in the collection, and the same connections' second sync (nothing changed). On a store that scans (FerretDB
// on SQLite) the time grows with the collection; on an index-backed one (MongoDB, FerretDB on PostgreSQL) it must
// not. The activities run in this process, one connection at a time, so the figures are the store's, not the queue's.
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { CommandStartedEvent } from 'mongodb';
import { createActivities } from '../src/activities/index.ts';
import { loadConfig } from '../src/config.ts';
import { ENTITY_TYPES } from '../src/domain/entity-types.ts';
import type { ListEntitiesResult } from '../src/shared/types.ts';
import { noopMetrics, type SyncMetrics } from '../src/activities/metrics.ts';
import { createWorkerResources } from '../src/worker/create-worker.ts';
import { startStack } from '../scripts/stack.ts';
import { mockActivityEnv, runActivity } from '../test/helpers/activity-env.ts';
import { emulator } from '../test/helpers/emulator.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    // Seconds to let the store settle after the bulk load before measuring: without it, FerretDB on PostgreSQL read a
    // team's rows 30× slower for some seconds after the 90,000-row load (measured: 254 ms vs 10 ms median).
    settle: { type: 'string', default: '20' },
    connections: { type: 'string', default: '20' },
    products: { type: 'string', default: '5' },
  },
});
const SIZES = args.sizes.split(',').map(Number);
const M = Number(args.connections);
const P = Number(args.products);
if (![...SIZES, M, P].every((n) => Number.isInteger(n) && n > 0)) throw new Error('positive integers only');

Runtime.install({ logger: new DefaultLogger('WARN') });
const ownStack = process.env.TEMPORAL_ADDRESS ? null : await startStack({ mode: 'test', dataDir: '.data/bench-flat' });
if (ownStack) Object.assign(process.env, ownStack.env);

const stamp = Date.now();
const dbUrl = new URL(process.env.MONGODB_URI!);
dbUrl.pathname = `/bench_flat_${stamp}`;
const config = loadConfig({ ...process.env, MONGODB_URI: dbUrl.toString() });
// Per step, for the pass being measured: where a slow sync's time went.
let steps: Record<string, number[]> = {};
const metrics: SyncMetrics = {
  ...noopMetrics,
  stepSeconds: (step, seconds) => (steps[step] ??= []).push(seconds * 1000),
};
const resources = await createWorkerResources(config, { metrics, mongoOptions: { monitorCommands: true } });
let commands = 0;
resources.mongo.on('commandStarted', (_e: CommandStartedEvent) => (commands += 1));
const db = resources.mongo.db(config.mongo.dbName);
const acts = createActivities(resources.deps);
const call = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...a: A) => runActivity(fn, mockActivityEnv(), ...a);

// Rows of other teams shaped like the worker's own, AWS's details included (about 2 KB each).
const LONG = 'A product description as sellers write them, with features, pricing notes and support terms. '.repeat(16);
let filled = 0;
async function fillTo(size: number): Promise<void> {
  const started = Date.now();
  const now = new Date();
  while (filled < size) {
    const batch = Array.from({ length: Math.min(1_000, size - filled) }, (_, k) => {
      const i = filled + k;
      return {
        team_id: `filler-team-${Math.floor(i / 10)}`,
        connection_id: `filler-connection-${Math.floor(i / 10)}`,
        entity_id: `prod-filler${String(i).padStart(8, '0')}`,
        title: `Filler product ${i}`,
        catalog_type: 'SAAS',
        aws_visibility: 'Public',
        aws_last_modified: now,
        status: 'published',
        published_at: now,
        last_synced_at: now,
        created_at: now,
        updated_at: now,
        last_sync_run_id: 'filler',
        last_sync_action: 'imported',
        aws_details: { short_description: `Filler ${i}`, long_description: LONG, categories: ['Operations'] },
        aws_details_synced_at: now,
        aws_details_modified: now,
        aws_details_run_id: 'filler',
      };
    });
    await db.collection('listings').insertMany(batch, { ordered: false });
    filled += batch.length;
  }
  console.log(
    `  ${size.toLocaleString('en')} other rows in listings (added in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)]!;

interface Round {
  size: number;
  first: number[];
  second: number[];
  bare: number[];
  reconcileCommands: number[];
}

async function measure(size: number): Promise<Round> {
  const round: Round = { size, first: [], second: [], bare: [], reconcileCommands: [] };
  const accountId = (i: number) => String(800_000_000_000 + size + i);
  await emulator.putAccounts(
    Array.from({ length: M }, (_, i) => ({
      accountId: accountId(i),
      roles: [{ name: 'ListingSync', externalId: `ext-${accountId(i)}` }],
      generate: { SaaSProduct: P },
    })),
  );
  await db.collection('connections').insertMany(
    Array.from({ length: M }, (_, i) => ({
      _id: `flat-${size}-${i}` as never,
      team_id: `flat-team-${size}-${i}`,
      provider: 'aws',
      iam_role_arn: `arn:aws:iam::${accountId(i)}:role/ListingSync`,
      external_id: `ext-${accountId(i)}`,
    })),
  );
  for (const pass of ['first', 'second', 'bare'] as const) {
    // `bare`: the second sync again, over rows without AWS's details, to price keeping them on the row.
    if (pass === 'bare') {
      const teams = Array.from({ length: M }, (_, i) => `flat-team-${size}-${i}`);
      await db.collection('listings').updateMany({ team_id: { $in: teams } }, { $unset: { aws_details: '' } });
    }
    steps = {};
    for (let i = 0; i < M; i += 1) {
      const connectionId = `flat-${size}-${i}`;
      const ref = { connectionId, workflowId: `flat-${connectionId}`, runId: `flat-${stamp}-${pass}-${connectionId}` };
      const started = performance.now();
      const role = await call(acts.assumeRole, ref);
      const lists: ListEntitiesResult[] = [];
      for (const entityType of ENTITY_TYPES) lists.push(await call(acts.listEntities, { ...ref, entityType }));
      const before = commands;
      const summary = await call(acts.reconcile, { ...ref, teamId: role.teamId, lists });
      round.reconcileCommands.push(commands - before);
      round[pass].push(performance.now() - started);
      const expected = pass === 'first' ? summary.imported : summary.matched;
      if (expected !== P) throw new Error(`${connectionId} ${pass} sync: ${JSON.stringify(summary)}`);
    }
    const perStep = Object.entries(steps).map(([step, ms]) => `${step} ${median(ms).toFixed(0)}`);
    console.log(`  ${size.toLocaleString('en')} rows, ${pass} sync, median ms per step: ${perStep.join(', ')}`);
  }
  return round;
}

console.log(
  `One connection at a time, ${M} connections of ${P} products per size, store ${process.env.LOCAL_MONGO_STORE ?? 'postgresql'}`,
);
const rounds: Round[] = [];
for (const size of [...SIZES].sort((a, b) => a - b)) {
  await fillTo(size);
  await delay(Number(args.settle) * 1_000);
  rounds.push(await measure(size));
}
console.log(
  '\n| other rows | first sync median / p90 (ms) | second sync median / p90 (ms) | second sync, rows without aws_details (ms) | MongoDB commands per reconcile |',
);
console.log('|---:|---:|---:|---:|---:|');
for (const r of rounds) {
  const cmds = [...new Set(r.reconcileCommands)].sort((a, b) => a - b).join(', ');
  console.log(
    `| ${r.size.toLocaleString('en')} | ${median(r.first).toFixed(0)} / ${p90(r.first).toFixed(0)} | ${median(r.second).toFixed(0)} / ${p90(r.second).toFixed(0)} | ${median(r.bare).toFixed(0)} / ${p90(r.bare).toFixed(0)} | ${cmds} |`,
  );
}
const [small, large] = [rounds[0]!, rounds.at(-1)!];
console.log(
  `\nfirst sync: ${(median(large.first) / median(small.first)).toFixed(2)}× from ${small.size.toLocaleString('en')} to ${large.size.toLocaleString('en')} rows; second sync: ${(median(large.second) / median(small.second)).toFixed(2)}×`,
);

await db.dropDatabase();
await resources.mongo.close();
await ownStack?.stop();
