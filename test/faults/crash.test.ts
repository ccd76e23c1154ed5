import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  Client,
  Connection,
  isGrpcServiceError,
  ServiceError,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { MongoClient, type Db } from 'mongodb';
import { FailureType } from '../../src/shared/failures.ts';
import type { SyncAllResult, SyncAllTotals } from '../../src/shared/types.ts';
import type { syncAll } from '../../src/workflows/index.ts';
import type { EmulatorAccount, EmulatorProduct } from '../helpers/emulator.ts';
import { putEmulatorAccounts, startFaultStack, WorkerProcess, type FaultStack } from '../helpers/fault-stack.ts';

// Servers and the worker die in the middle of a SyncAll; afterwards nothing may be lost, nothing duplicated, and
// every total must be exact. Every scenario gets its own database, task queue and worker process on one stack of
// the suite's own (the outer test stack's servers are never touched).

// Sized for the 2-core machine shared with other work: FerretDB scans every listing at each reconcile, so the run
// costs about connections x listings, and each worker kill adds a 1-minute heartbeat timeout on top.
const CONNECTIONS = 200;
const BATCH_SIZE = 50;
const CONCURRENCY = 20;
/** Per scenario, from the SyncAll's start to its result. */
const DEADLINE_MS = 6 * 60_000;
/**
 * No connection finishing for this long fails the scenario early. It must exceed the longest legitimate pause:
 * a listing activity lost with a killed worker is retried after its 1-minute heartbeat timeout.
 */
const STALL_MS = 150_000;

const ENTITY_TYPES = ['SaaSProduct', 'AmiProduct', 'ContainerProduct', 'ProfessionalServicesProduct'];
const VISIBILITIES = ['Public', 'Limited', 'Restricted', 'Draft'];

interface SeedEntry {
  index: number;
  accountId: string;
  externalId: string;
  products: EmulatorProduct[];
  /** Why the sync of a broken connection fails; undefined for a good one. */
  failsWith?: string;
  /** Fields that break the connection document. */
  docOverrides?: Record<string, unknown>;
}

/** The same accounts serve every scenario; connections and listings live in each scenario's own database. */
function buildSeed(): SeedEntry[] {
  return Array.from({ length: CONNECTIONS }, (_, i): SeedEntry => {
    const accountId = String(810_000_000_000 + i);
    const product = (entityType: string, j: number): EmulatorProduct => ({
      entityType,
      entityId: `prod-${i}-${entityType.slice(0, 3).toLowerCase()}-${j}`,
      // Unique per account: a title shared by two products would be reported ambiguous rather than imported.
      name: `${entityType} ${i}.${j}`,
      visibility: VISIBILITIES[(i + j) % VISIBILITIES.length]!,
      lastModified: new Date(Date.UTC(2026, 0, 1 + ((i + j) % 300))).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    let products: EmulatorProduct[];
    if (i % 16 === 7) {
      // More than two pages of one type: the rest is listed by the heartbeating activity and staged in MongoDB.
      const big = ENTITY_TYPES[Math.floor(i / 16) % 3]!;
      // 110 rather than more: every reconcile scans all listings on FerretDB, so rows cost time squared.
      products = [...Array.from({ length: 110 }, (_, j) => product(big, j)), product('ProfessionalServicesProduct', 0)];
    } else {
      products = Array.from({ length: (i * 7 + 3) % 6 }, (_, j) => product(ENTITY_TYPES[(i + j) % 4]!, j));
    }
    const entry: SeedEntry = { index: i, accountId, externalId: `ext-${accountId}`, products };
    if (i === 13 || i === 163) {
      entry.failsWith = FailureType.InvalidConnection;
      entry.docOverrides = { iam_role_arn: 'not-an-arn' };
    } else if (i === 101) {
      entry.failsWith = FailureType.InvalidConnection;
      entry.docOverrides = { external_id: null };
    } else if (i === 59 || i === 191) {
      // The role trusts another external id: STS answers 403.
      entry.failsWith = FailureType.AssumeRoleDenied;
    }
    return entry;
  });
}

function emulatorAccounts(seed: SeedEntry[]): EmulatorAccount[] {
  return seed.map((s) => ({
    accountId: s.accountId,
    roles: [
      {
        name: 'ListingSync',
        externalId: s.failsWith === FailureType.AssumeRoleDenied ? `another-${s.externalId}` : s.externalId,
      },
    ],
    products: s.products,
    // Every call waits a little, so a run lasts long enough for a fault to land in its middle.
    faults: { latencyMs: 20 + (s.index % 4) * 10 },
  }));
}

interface ScenarioContext {
  worker: WorkerProcess;
  stack: FaultStack;
  /** Resolves once this share of the good connections is synced; returns the count at that moment. */
  progressReaches: (share: number) => Promise<number>;
  /** Records where a fault landed, for the report and the "it landed mid-run" check. */
  fault: (what: string) => Promise<void>;
}

describe('crash faults during a SyncAll: nothing lost, nothing duplicated, exact totals', function () {
  this.timeout(8 * 60_000);
  const seed = buildSeed();
  const good = seed.filter((s) => !s.failsWith);
  const broken = seed.filter((s) => s.failsWith);
  const totalProducts = good.reduce((n, s) => n + s.products.length, 0);
  let faults: FaultStack;
  let connection: Connection | undefined;
  let client: Client;
  let mongo: MongoClient | undefined;
  let failed = 0;
  let passed = 0;

  before(async function () {
    // The first run on a bare machine builds the Temporal CLI (minutes).
    this.timeout(10 * 60_000);
    const started = Date.now();
    faults = await startFaultStack(`.data/faults/${process.pid}`);
    await putEmulatorAccounts(faults.env.EMULATOR_ADMIN_URL!, emulatorAccounts(seed));
    connection = await Connection.connect({ address: faults.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: faults.env.TEMPORAL_NAMESPACE ?? 'default' });
    // Short server selection: progress polls during a MongoDB outage fail fast and are tried again.
    mongo = await new MongoClient(faults.env.MONGODB_URI!, { serverSelectionTimeoutMS: 3_000 }).connect();
    console.log(
      `  [faults] own stack up and seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${CONNECTIONS} connections ` +
        `(${good.length} good, ${broken.length} broken), ${totalProducts} products; data in ${faults.dataDir}`,
    );
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed += 1;
    if (this.currentTest?.state === 'passed') passed += 1;
  });

  after(async () => {
    await connection?.close();
    await mongo?.close();
    await faults?.stop();
    if (!faults) return;
    // Logs matter only when something failed; a passing run's servers' files are 40 MB of nothing.
    if (failed === 0 && passed > 0) rmSync(faults.dataDir, { recursive: true, force: true });
    else console.log(`  [faults] logs kept in ${join(faults.dataDir, 'logs')}`);
  });

  async function runScenario(tag: string, inject: (ctx: ScenarioContext) => Promise<void>): Promise<void> {
    const stamp = Date.now();
    const dbName = `faults_${tag.replace(/\W/g, '_')}_${stamp}`;
    const uri = new URL(faults.env.MONGODB_URI!);
    uri.pathname = `/${dbName}`;
    const db = mongo!.db(dbName);
    // Connection ids (and so child workflow ids) are unique per scenario: an earlier scenario's leftovers never collide.
    const idOf = (s: SeedEntry) => `f-${tag}-${stamp}-${String(s.index).padStart(3, '0')}`;
    const teamOf = (s: SeedEntry) => `team-${tag}-${s.index}`;
    await db.collection('connections').insertMany(
      seed.map((s) => ({
        _id: idOf(s) as never,
        team_id: teamOf(s),
        provider: 'aws',
        iam_role_arn: `arn:aws:iam::${s.accountId}:role/ListingSync`,
        external_id: s.externalId,
        ...s.docOverrides,
      })),
    );

    const taskQueue = `faults-${tag}-${process.pid}-${stamp}`;
    const worker = new WorkerProcess(
      {
        ...faults.env,
        WORKFLOW_BUNDLE_PATH: faults.bundlePath,
        TEMPORAL_TASK_QUEUE: taskQueue,
        MONGODB_URI: uri.toString(),
        LOG_LEVEL: 'WARN',
      },
      join(faults.dataDir, 'logs', `worker-${tag}.log`),
    );
    const progress = new ProgressMonitor(db, good.length);
    const landed: string[] = [];
    const problems: string[] = [];
    let handle: WorkflowHandleWithFirstExecutionRunId<typeof syncAll> | undefined;
    let waiting: ResultWaiter | undefined;
    const started = Date.now();
    try {
      worker.start();
      handle = await client.workflow.start<typeof syncAll>('syncAll', {
        taskQueue,
        workflowId: `faults-sync-all-${tag}-${stamp}`,
        args: [{ batchSize: BATCH_SIZE, concurrency: CONCURRENCY }],
      });
      const result = new ResultWaiter(handle);
      waiting = result;
      progress.start();

      const context: ScenarioContext = {
        worker,
        stack: faults,
        progressReaches: async (share) => {
          const target = Math.ceil(good.length * share);
          while (progress.succeeded < target && !result.settled) {
            assertAlive(worker, progress, started);
            await delay(100);
          }
          return progress.succeeded;
        },
        fault: async (what) => {
          await progress.refresh();
          const at = `${what} at ${progress.succeeded}/${good.length} synced, ${secondsSince(started)} s`;
          landed.push(at);
          // A fault after the end proves nothing: the seed would be too small for this machine.
          if (result.settled || progress.succeeded >= good.length) problems.push(`not mid-run: ${at}`);
          console.log(`    ${at}`);
        },
      };
      await inject(context);

      while (!result.settled) {
        assertAlive(worker, progress, started);
        await delay(250);
      }
      const outcome = result.settled;
      const seconds = secondsSince(started);
      if (!outcome.ok) throw outcome.error;
      console.log(
        `  [faults] ${tag}: SyncAll finished in ${seconds} s (${outcome.value.runs} runs, ` +
          `${result.transientErrors} transient client errors, worker started ${worker.starts}x)`,
      );
      problems.push(...(await verify(db, outcome.value, idOf, teamOf)));
      for (const exit of worker.unexpectedExits) problems.push(`the worker exited by itself: ${exit}`);
      if (problems.length > 0) assert.fail(`${tag}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
    } finally {
      waiting?.abandon();
      progress.stop();
      await worker.stop();
      if (waiting && !waiting.settled) await handle?.terminate('crash test gave up').catch(() => undefined);
      // A scenario that failed half-way must not leave the next one without a server.
      for (const [name, server] of Object.entries(faults.stack.servers)) {
        if (server.running) continue;
        await server.start();
        // The emulator keeps its accounts in memory only: a restarted one needs the seed again.
        if (name === 'emulator') await putEmulatorAccounts(faults.env.EMULATOR_ADMIN_URL!, emulatorAccounts(seed));
      }
      console.log(`  [faults] ${tag}: ${secondsSince(started)} s in all (${landed.length} fault(s) injected)`);
    }
  }

  async function verify(
    db: Db,
    result: SyncAllResult,
    idOf: (s: SeedEntry) => string,
    teamOf: (s: SeedEntry) => string,
  ): Promise<string[]> {
    const problems: string[] = [];
    const expectedTotals: SyncAllTotals = {
      connections: { succeeded: good.length, failed: broken.length, skipped: 0 },
      total_aws: totalProducts,
      matched: 0,
      updated: 0,
      auto_linked: 0,
      imported: totalProducts,
    };
    const sameJson = (what: string, actual: unknown, expected: unknown) => {
      if (!isDeepStrictEqual(actual, expected))
        problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    };

    sameJson('SyncAll result totals', result.totals, expectedTotals);
    const failureTypes = Object.fromEntries(result.failures.map((f) => [f.connection_id, f.type]));
    sameJson(
      'SyncAll result failures (connection -> type)',
      failureTypes,
      Object.fromEntries(broken.map((s) => [idOf(s), s.failsWith])),
    );
    if (result.failures.length !== broken.length)
      problems.push(`SyncAll result lists ${result.failures.length} failures for ${broken.length} broken connections`);

    const runs = await db.collection('sync_runs').find().toArray();
    if (runs.length !== 1) problems.push(`sync_runs has ${runs.length} documents, expected 1`);
    for (const run of runs) {
      if (run.status !== 'succeeded') problems.push(`sync_runs ${String(run._id)} status is ${run.status}`);
      sameJson(`sync_runs ${String(run._id)} totals`, run.totals, expectedTotals);
    }

    const docs = new Map((await db.collection('connections').find().toArray()).map((d) => [String(d._id), d.sync]));
    const wrongSync: string[] = [];
    for (const s of good) {
      const sync = docs.get(idOf(s));
      const n = s.products.length;
      if (sync?.status !== 'succeeded' || sync.summary?.imported !== n || sync.summary?.total_aws !== n) {
        wrongSync.push(
          `${idOf(s)}: status ${sync?.status}, imported ${sync?.summary?.imported}, total_aws ${sync?.summary?.total_aws} ` +
            `(expected succeeded, ${n}, ${n}${sync?.error ? `; error ${sync.error.type}: ${sync.error.message}` : ''})`,
        );
      }
    }
    for (const s of broken) {
      const sync = docs.get(idOf(s));
      if (sync?.status !== 'failed' || sync.error?.type !== s.failsWith)
        wrongSync.push(
          `${idOf(s)}: status ${sync?.status}, error ${sync?.error?.type} (expected failed, ${s.failsWith})`,
        );
    }
    if (wrongSync.length > 0)
      problems.push(`connections.sync wrong for ${wrongSync.length}: ${wrongSync.slice(0, 8).join('; ')}`);

    // One pass over every listing: per team, the entity ids as stored (duplicates included).
    const byTeam = new Map<string, string[]>();
    for (const row of await db
      .collection('listings')
      .find({}, { projection: { team_id: 1, entity_id: 1 } })
      .toArray()) {
      const ids = byTeam.get(String(row.team_id)) ?? [];
      ids.push(String(row.entity_id));
      byTeam.set(String(row.team_id), ids);
    }
    let missing = 0;
    let unexpected = 0;
    let duplicated = 0;
    const wrongTeams: string[] = [];
    for (const s of good) {
      const stored = byTeam.get(teamOf(s)) ?? [];
      byTeam.delete(teamOf(s));
      const expected = new Set(s.products.map((p) => p.entityId));
      const counts = new Map<string, number>();
      for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
      const lost = [...expected].filter((id) => !counts.has(id));
      const extra = [...counts.keys()].filter((id) => !expected.has(id));
      const twice = [...counts].filter(([, c]) => c > 1);
      missing += lost.length;
      unexpected += extra.length;
      duplicated += twice.length;
      if (lost.length + extra.length + twice.length > 0) {
        wrongTeams.push(
          `${teamOf(s)}: ${stored.length} rows for ${expected.size} products` +
            (lost.length ? `, missing ${lost.slice(0, 3).join(' ')}` : '') +
            (extra.length ? `, unexpected ${extra.slice(0, 3).join(' ')}` : '') +
            (twice.length
              ? `, duplicated ${twice
                  .slice(0, 3)
                  .map(([id, c]) => `${id} x${c}`)
                  .join(' ')}`
              : ''),
        );
      }
    }
    if (wrongTeams.length > 0) {
      problems.push(
        `listings wrong for ${wrongTeams.length} teams (${missing} missing, ${duplicated} (team_id, entity_id) ` +
          `duplicated, ${unexpected} unexpected): ${wrongTeams.slice(0, 6).join('; ')}`,
      );
    }
    // Whatever is left belongs to broken connections (which must import nothing) or to nobody.
    for (const [team, ids] of byTeam) problems.push(`listings: ${ids.length} rows for team ${team}, expected none`);

    const staged = await db.collection('sync_staging').countDocuments();
    if (staged > 0) problems.push(`sync_staging still holds ${staged} pages (nothing may be left behind)`);
    return problems;
  }

  // Opt-in (CRASH_TEST_CONTROL=1): the same run without a fault, to tell a fault's effect from a plain bug.
  (process.env.CRASH_TEST_CONTROL === '1' ? it : it.skip)('control: the same SyncAll without a fault', async () => {
    await runScenario('control', () => Promise.resolve());
  });

  it('SIGKILL of the worker process at about 20 %, 50 % and 80 %, restarted a second later each time', async () => {
    await runScenario('worker-kill', async ({ worker, progressReaches, fault }) => {
      for (const share of [0.2, 0.5, 0.8]) {
        await progressReaches(share);
        await worker.kill('SIGKILL');
        await fault(`worker SIGKILLed (#${worker.starts})`);
        await delay(1_000);
        worker.start();
      }
    });
  });

  it('SIGKILL of the MongoDB-wire server mid-run, restarted 10 s later', async () => {
    await runScenario('mongo-kill', async ({ stack, progressReaches, fault }) => {
      await progressReaches(0.4);
      await stack.stack.servers.mongo!.kill('SIGKILL');
      await fault('MongoDB-wire server SIGKILLed');
      await delay(10_000);
      const restarting = Date.now();
      await stack.stack.servers.mongo!.start();
      console.log(`    MongoDB-wire server up again after ${secondsSince(restarting)} s`);
    });
  });

  it('SIGKILL of the Temporal dev server mid-run, restarted 10 s later on the same database', async () => {
    await runScenario('temporal-kill', async ({ stack, progressReaches, fault }) => {
      await progressReaches(0.4);
      await stack.stack.servers.temporal!.kill('SIGKILL');
      await fault('Temporal dev server SIGKILLed');
      await delay(10_000);
      const restarting = Date.now();
      await stack.stack.servers.temporal!.start();
      console.log(`    Temporal dev server up again after ${secondsSince(restarting)} s`);
    });
  });
});

function secondsSince(start: number): string {
  return ((Date.now() - start) / 1000).toFixed(1);
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Fails the scenario at once when waiting longer cannot help: the worker died by itself, a stall, the deadline. */
function assertAlive(worker: WorkerProcess, progress: ProgressMonitor, started: number): void {
  const state = `${progress.succeeded}/${progress.target} synced after ${secondsSince(started)} s`;
  if (worker.unexpectedExits.length > 0 && !worker.running)
    assert.fail(`the worker exited by itself (${state}): ${worker.unexpectedExits.join('\n')}`);
  if (Date.now() - progress.lastChangeAt > STALL_MS) {
    assert.fail(
      `stalled: no connection finished for ${STALL_MS / 1000} s (${state}); worker log tail:\n${worker.tail(15)}`,
    );
  }
  if (Date.now() - started > DEADLINE_MS)
    assert.fail(`the SyncAll did not finish within ${DEADLINE_MS / 1000} s (${state})`);
}

/**
 * Counts good connections whose sync succeeded, in the background; MongoDB outages just skip a beat. Once a
 * second: FerretDB answers the count by scanning every connection, on the CPU the run under test needs.
 */
class ProgressMonitor {
  succeeded = 0;
  lastChangeAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly db: Db,
    readonly target: number,
  ) {}

  start(): void {
    const started = Date.now();
    let reported = started;
    this.lastChangeAt = started;
    this.timer = setInterval(() => {
      void this.refresh();
      // A line every half minute shows where a slow or stalled run spent its time.
      if (Date.now() - reported >= 30_000) {
        reported = Date.now();
        console.log(`      ${this.succeeded}/${this.target} synced at ${secondsSince(started)} s`);
      }
    }, 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const count = await this.db.collection('connections').countDocuments({ 'sync.status': 'succeeded' });
      if (count !== this.succeeded) {
        this.succeeded = count;
        this.lastChangeAt = Date.now();
      }
    } catch {
      // The server is down (the MongoDB scenario): the next tick tries again.
    } finally {
      this.polling = false;
    }
  }
}

/** handle.result(), tried again across a Temporal outage; `settled` says how it ended. */
class ResultWaiter {
  settled: { ok: true; value: SyncAllResult } | { ok: false; error: unknown } | undefined;
  transientErrors = 0;
  private abandoned = false;

  constructor(handle: WorkflowHandleWithFirstExecutionRunId<typeof syncAll>) {
    void (async () => {
      for (;;) {
        try {
          this.settled = { ok: true, value: await handle.result() };
          return;
        } catch (err) {
          if (this.abandoned) return;
          // Only the connection may fail transiently; a failed workflow is an answer.
          if (!(err instanceof ServiceError) && !isGrpcServiceError(err)) {
            this.settled = { ok: false, error: err };
            return;
          }
          this.transientErrors += 1;
          await delay(1_000);
        }
      }
    })();
  }

  abandon(): void {
    this.abandoned = true;
  }
}
