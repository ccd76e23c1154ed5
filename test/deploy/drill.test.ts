import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ListingSyncClient } from '../../src/client/index.ts';
import { describeDeployment, promoteVersion, type DeploymentState } from '../../src/deploy/deployment-api.ts';
import type { VerifyReport } from '../../src/deploy/verify.ts';
import type { SyncAllResult, SyncSummary } from '../../src/shared/types.ts';
import { syncConnectionWorkflowId } from '../../src/shared/workflow-ids.ts';
import type { syncAll } from '../../src/workflows/index.ts';
import { ensureBuilt, type Build } from '../helpers/build.ts';
import { cliJson, runCli, type CliRun } from '../helpers/cli.ts';
import { emulator, makeProducts, type EmulatorAccount, type EmulatorProduct } from '../helpers/emulator.ts';
import { isolatedDb, openStack, uniqueTaskQueue, type IsolatedDb, type TestStack } from '../helpers/stack.ts';
import { syncAllVariant, type SyncAllEdit } from '../helpers/workflow-variants.ts';
import { allRunFacts, pinnedBuild, retrying, runFacts, WorkerProcess } from './drill-helpers.ts';

// The deploy runbook (docs/deploying.md) on the test stack: build A is Current and a SyncAll chain is half-way when
// build B (today's code with a patched syncAll edit) is verified and promoted through the CLI. Nothing may fail:
// the AUTO_UPGRADE chain moves to B and replays there, pinned runs (the chain's children, a refresh and its extra
// run) finish on the build they started on, the totals are exact, and A reports drained once its last pinned run
// closes. DRILL_SYNC_ALL_EDIT=unpatched makes B the same edit without patched(): the drill must then fail.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EDIT: SyncAllEdit = process.env.DRILL_SYNC_ALL_EDIT === 'unpatched' ? 'unpatched' : 'patched';
/** The id the variant's patched() uses (test/helpers/workflow-variants.ts). */
const VARIANT_PATCH = 'drill-extra-timer';

const CONNECTIONS = 300;
const BATCH_SIZE = 40;
const CONCURRENCY = 10;
/** B is verified once this share of the connections has a finished sync. */
const VERIFY_AT = 0.15;
/**
 * Every call of the refreshed account waits this long, so its first run is still listing when B is promoted and
 * continues as new after the promotion: the extra run's build is then the server's choice, not the clock's. The
 * workers' AWS request timeout is raised above it.
 */
const REFRESH_LATENCY_MS = 10_000;
/** A child started this close to the promotion may have had its first task on either build. */
const PROMOTION_FUZZ_MS = 2_000;
const CHAIN_DEADLINE_MS = 150_000;
const DRAIN_DEADLINE_MS = 60_000;
const ENTITY_TYPES = ['SaaSProduct', 'AmiProduct', 'ContainerProduct', 'ProfessionalServicesProduct'];

interface Seed {
  id: string;
  accountId: string;
  teamId: string;
  products: EmulatorProduct[];
}

const say = (line: string) => console.log(`    [drill] ${line}`);

describe('deploy drill: a new build verified and promoted in the middle of a SyncAll chain', function () {
  this.timeout(240_000);
  const stamp = Date.now();
  const deploymentName = `drill-${process.pid}`;
  const dataDir = join(ROOT, '.data', `drill-${process.pid}-${stamp}`);
  const chainId = `drill-sync-all-${stamp}`;
  let tq: string;
  let build: Build;
  let bundleB: string;
  let stack: TestStack | undefined;
  let iso: IsolatedDb | undefined;
  let workerA: WorkerProcess | undefined;
  let workerB: WorkerProcess | undefined;
  let passed = false;
  let stopWatching = () => {};

  // Connection 0 is first in _id order, so the chain syncs it in its first batch; the refresh comes later.
  const seeds: Seed[] = Array.from({ length: CONNECTIONS }, (_, i) => {
    const accountId = `7${String(process.pid % 1000).padStart(3, '0')}${String(stamp % 10_000).padStart(4, '0')}${String(i).padStart(4, '0')}`;
    const count = i === 0 ? 3 : i % 3;
    return {
      id: `drill-${stamp}-${String(i).padStart(4, '0')}`,
      accountId,
      teamId: `drill-team-${stamp}-${i}`,
      products: count ? makeProducts(accountId, ENTITY_TYPES[i % ENTITY_TYPES.length]!, count) : [],
    };
  });
  const slow = seeds[0]!;
  const totalProducts = seeds.reduce((n, s) => n + s.products.length, 0);

  before(async function () {
    this.timeout(180_000);
    build = ensureBuilt();
    stack = await openStack();
    iso = await isolatedDb(stack, 'drill');
    tq = uniqueTaskQueue('drill');
    mkdirSync(dataDir, { recursive: true });
    bundleB = join(dataDir, `workflow-bundle-${EDIT}.js`);
    await syncAllVariant(EDIT, bundleB);
    const env = (bundle: string): NodeJS.ProcessEnv => ({
      ...process.env,
      WORKFLOW_BUNDLE_PATH: bundle,
      TEMPORAL_DEPLOYMENT_NAME: deploymentName,
      TEMPORAL_TASK_QUEUE: tq,
      // The drill decides which build is Current, not the workers.
      WORKER_PROMOTE_ON_START: 'false',
      MONGODB_URI: iso!.uri,
      AWS_REQUEST_TIMEOUT_MS: String(REFRESH_LATENCY_MS * 3),
      LOG_LEVEL: 'INFO',
    });
    workerA = new WorkerProcess('A', build.worker, env(build.workflowBundle), join(dataDir, 'worker-A.log'));
    workerB = new WorkerProcess('B', build.worker, env(bundleB), join(dataDir, 'worker-B.log'));
  });

  after(async function () {
    this.timeout(60_000);
    stopWatching();
    // A failed drill leaves runs open (a stranded chain retries its task for ever): end them before the workers go.
    if (stack && tq) {
      const open = stack.client.workflow.list({ query: `TaskQueue = '${tq}' AND ExecutionStatus = 'Running'` });
      for await (const wf of open) {
        await stack.client.workflow
          .getHandle(wf.workflowId, wf.runId)
          .terminate('the deploy drill ended')
          .catch(() => undefined);
      }
    }
    await Promise.all([workerA?.stop(), workerB?.stop()]);
    await iso?.close();
    await stack?.close();
    if (passed) rmSync(dataDir, { recursive: true, force: true });
    else say(`worker logs kept in ${dataDir}`);
  });

  async function seed(): Promise<void> {
    const accounts: EmulatorAccount[] = seeds.map((s) => ({
      accountId: s.accountId,
      roles: [{ name: 'ListingSync', externalId: `ext-${s.accountId}` }],
      products: s.products,
    }));
    for (let i = 0; i < accounts.length; i += 100) await emulator.putAccounts(accounts.slice(i, i + 100));
    await iso!.db.collection('connections').insertMany(
      seeds.map((s) => ({
        _id: s.id as never,
        team_id: s.teamId,
        provider: 'aws',
        iam_role_arn: `arn:aws:iam::${s.accountId}:role/ListingSync`,
        external_id: `ext-${s.accountId}`,
      })),
    );
  }

  it(`promotes B (${EDIT} syncAll edit) mid-chain: no task fails, pinned runs stay, the chain moves, A drains`, async () => {
    const client = stack!.client;
    const db = iso!.db;
    const { namespace } = stack!.config.temporal;
    const t0 = Date.now();
    const at = (t = Date.now()) => `${((t - t0) / 1000).toFixed(1)} s`;
    const cliEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_DEPLOYMENT_NAME: deploymentName,
      TEMPORAL_TASK_QUEUE: tq,
      MONGODB_URI: iso!.uri,
      // `deploy verify` verifies the build this bundle is.
      WORKFLOW_BUNDLE_PATH: bundleB,
    };
    const cli = (...args: string[]) => runCli(args, cliEnv);
    const problems: string[] = [];

    // 1. Both builds poll; A becomes Current once the server has seen its pollers.
    const [buildA, buildB] = await Promise.all([workerA!.start(), workerB!.start(), seed()]);
    assert.ok(buildA && buildB && buildA !== buildB, `two builds: A ${buildA}, B ${buildB}`);
    say(`${CONNECTIONS} connections (${totalProducts} products); deployment ${deploymentName}, task queue ${tq}`);
    say(`A = ${buildA} (dist/workflow-bundle.js), B = ${buildB} (syncAll edit ${EDIT}); both polling at ${at()}`);
    const promotedA = await retrying(20_000, () =>
      promoteVersion(client.workflowService, namespace, deploymentName, buildA),
    );
    say(`A Current at ${at()} (${promotedA.attempts} attempt(s))`);

    // 2. The chain, watched for failed workflow tasks all along: a stranded chain never ends by itself.
    const chain = await client.workflow.start<typeof syncAll>('syncAll', {
      taskQueue: tq,
      workflowId: chainId,
      args: [{ batchSize: BATCH_SIZE, concurrency: CONCURRENCY }],
    });
    let outcome: { ok: true; value: SyncAllResult } | { ok: false; error: unknown } | undefined;
    void chain.result().then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    let verifyNote = '';
    let checkedAt = 0;
    const until = async <T>(what: string, timeoutMs: number, fn: () => Promise<T | false | undefined>) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await fn();
        if (value !== false && value !== undefined) return value;
        if (outcome && !outcome.ok) throw outcome.error;
        if (Date.now() - checkedAt > 2_000) {
          checkedAt = Date.now();
          const latest = await runFacts(client, chainId, undefined, 'syncAll');
          if (latest.taskFailures.length > 0) {
            assert.fail(
              `the chain failed a workflow task at ${at()} (waiting for ${what}); its build sequence ` +
                `${summarizeBuilds(latest.builds, buildA, buildB)}:\n  ${latest.taskFailures.join('\n  ')}${verifyNote}`,
            );
          }
        }
        if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs / 1000} s waiting for ${what} (${at()})`);
        await delay(300);
      }
    };
    const finished = () =>
      db.collection('connections').countDocuments({ 'sync.status': { $in: ['succeeded', 'failed'] } });

    // 3. Mid-chain, a refresh of connection 0 starts on A (the chain synced it in its first batch). Every call of its
    // account takes 10 s, so its first run is pinned (its first workflow task completed) and listing before B is
    // promoted, and still listing after.
    const verifyAt = Math.ceil(CONNECTIONS * VERIFY_AT);
    await until(`${verifyAt} finished syncs`, 90_000, async () => {
      const slowDone = (await db.collection('connections').findOne({ _id: slow.id as never }))?.sync?.status;
      return slowDone === 'succeeded' && (await finished()) >= verifyAt;
    });
    await emulator.setFaults(slow.accountId, { latencyMs: REFRESH_LATENCY_MS });
    const listed = async () => (await emulator.stats()).byAccount[slow.accountId]?.calls.ListEntities ?? 0;
    const listedBefore = await listed();
    const app = ListingSyncClient.fromClient(client, tq);
    const event = (n: number) => ({
      eventId: `drill-${stamp}-${n}`,
      detailType: 'Change Set Succeeded',
      account: slow.accountId,
    });
    const refresh = await app.requestRefresh(slow.id, event(1));
    const refreshStarted = Date.now();
    say(`${await finished()}/${CONNECTIONS} synced at ${at()}: refresh of ${slow.id} started; deploy verify of B`);

    // 4. Meanwhile, verify B against the open and recent runs, as the runbook says, through the CLI.
    const [verified] = await Promise.all([
      cli('deploy', 'verify', '--closed-within', '1', '--json'),
      until('the refresh run to be pinned to A and listing', 40_000, async () => {
        const pinned = await pinnedBuild(client, syncConnectionWorkflowId(slow.id), refresh.runId);
        return pinned === buildA && (await listed()) > listedBefore;
      }),
    ]);
    const report = parseCli<VerifyReport>(verified);
    if (!report) problems.push(`deploy verify printed no report (exit ${verified.code}):\n${verified.out}`);
    else {
      say(
        `deploy verify (exit ${verified.code}): ${report.buildId} replayed ${report.replayed} histories in ` +
          `${report.seconds.toFixed(1)} s; would strand ${report.wouldStrand.length}, pinned elsewhere ` +
          `${report.pinnedElsewhere.length}, closed ${report.closed.length}`,
      );
      if (report.buildId !== buildB) problems.push(`deploy verify verified ${report.buildId}, B is ${buildB}`);
      if (report.wouldStrand.length > 0 || verified.code !== 0) {
        const lines = report.wouldStrand.map((f) => `${f.workflowType} ${f.workflowId}: ${f.message.slice(0, 200)}`);
        problems.push(`deploy verify: ${report.wouldStrand.length} runs would strand on B:\n  ${lines.join('\n  ')}`);
        verifyNote = `\n(deploy verify had said so: ${report.wouldStrand.length} open runs would strand on ${buildB})`;
      }
    }

    // 5. Promote B through the CLI. The server refuses while B does not poll every task queue A polls.
    const progressAtPromotion = await finished();
    const promoteStart = Date.now();
    const promoted = await retrying(
      20_000,
      async () => {
        const run = await cli('deploy', 'promote', buildB, '--json');
        if (run.code !== 0) throw new Error(`deploy promote exited ${run.code}: ${run.out}`);
        return run;
      },
      1_000,
    );
    const promoteEnd = Date.now();
    say(
      `B promoted through the CLI at ${at(promoteEnd)} (${((promoteEnd - promoteStart) / 1000).toFixed(1)} s, ` +
        `${promoted.attempts} attempt(s)) with ${progressAtPromotion}/${CONNECTIONS} synced`,
    );
    assert.equal(parseCli<{ current: string }>(promoted.value)?.current, buildB);

    // A second refresh while the first run still lists: it continues as new into an extra run, after the promotion.
    const again = await app.requestRefresh(slow.id, event(2));
    assert.equal(again.runId, refresh.runId, 'the second refresh reached the first run, still listing');
    // The first run's calls in flight keep their 10 s; the extra run need not be slow.
    await emulator.setFaults(slow.accountId, { latencyMs: 500 });

    // A's state as the server reports it, every half second from now on: when it turns drained is a figure.
    const drainage: Array<{ at: number; state: string }> = [];
    let watching = true;
    stopWatching = () => (watching = false);
    const watcher = (async () => {
      while (watching) {
        try {
          const state = await describeDeployment(client.workflowService, namespace, deploymentName);
          const a = state.versions.find((v) => v.buildId === buildA);
          const now = `${a?.status ?? 'absent'}${a?.drainage ? ` (${a.drainage})` : ''}`;
          if (drainage.at(-1)?.state !== now) drainage.push({ at: Date.now(), state: now });
        } catch (err) {
          drainage.push({ at: Date.now(), state: `describe failed: ${(err as Error).message}` });
        }
        await delay(500);
      }
    })();
    const drainedAt = () => drainage.find((d) => d.state.endsWith('(drained)'))?.at ?? null;

    // 6. The chain and the refresh finish.
    const result = await until('the chain to finish', CHAIN_DEADLINE_MS, () =>
      Promise.resolve(outcome?.ok && outcome.value),
    );
    const chainDone = Date.now();
    say(`chain finished at ${at(chainDone)}: ${result.runs} runs, totals ${JSON.stringify(result.totals.connections)}`);
    const refreshSummary = (await client.workflow.getHandle(syncConnectionWorkflowId(slow.id)).result()) as SyncSummary;

    // 7. A drains: its last pinned run has closed, and the server notices within its refresh interval.
    const runs = await allRunFacts(client, `TaskQueue = '${tq}'`);
    const drained = await until<number>('A to report drained', DRAIN_DEADLINE_MS, () =>
      Promise.resolve(drainedAt() ?? false),
    )
      .catch((err: unknown) => {
        problems.push(`A never reported drained: ${(err as Error).message}`);
        return null;
      })
      .finally(() => (watching = false));
    await watcher;
    const status = await cli('deploy', 'status');
    say(`deploy status:\n${status.out.trimEnd().replace(/^/gm, '      ')}`);
    say(`A's status over time: ${drainage.map((d) => `${d.state} at ${at(d.at)}`).join(' -> ')}`);
    const statusJson = parseCli<DeploymentState>(await cli('deploy', 'status', '--json'));
    if (statusJson?.current !== buildB) problems.push(`deploy status: current is ${statusJson?.current}, not B`);
    const aState = statusJson?.versions.find((v) => v.buildId === buildA);
    if (drained !== null && aState?.drainage !== 'drained')
      problems.push(`deploy status shows A as ${aState?.status} (${aState?.drainage}), not drained`);

    // Where every run ran, from its history.
    const chainRuns = runs.filter((r) => r.workflowId === chainId).sort((a, b) => a.startedAt - b.startedAt);
    const children = runs.filter((r) => r.type === 'syncConnection' && r.parentWorkflowId === chainId);
    const slowWorkflowId = syncConnectionWorkflowId(slow.id);
    const refreshRuns = runs
      .filter((r) => r.workflowId === slowWorkflowId && r.parentWorkflowId !== chainId)
      .sort((a, b) => a.startedAt - b.startedAt);
    const others = runs.filter((r) => !chainRuns.includes(r) && !children.includes(r) && !refreshRuns.includes(r));
    if (others.length > 0) problems.push(`runs nobody started: ${others.map((r) => r.workflowId).join(', ')}`);

    // No run failed a workflow task, and every run completed (or continued as new).
    for (const r of runs) {
      problems.push(...r.taskFailures);
      if (r.status !== 'COMPLETED' && r.status !== 'CONTINUED_AS_NEW')
        problems.push(`${r.type} ${r.workflowId} run ${r.runId} is ${r.status}`);
    }

    // The chain: once a run's tasks go to B, none goes back to A; runs started after the promotion ran on B only.
    const where = chainRuns.map((r) => summarizeBuilds(r.builds, buildA, buildB));
    say(`chain runs by build: ${where.join(' | ')}`);
    for (const [i, r] of chainRuns.entries()) {
      const firstB = r.builds.indexOf(buildB);
      if (firstB >= 0 && r.builds.slice(firstB).some((b) => b !== buildB))
        problems.push(`chain run ${i + 1} went back from B: ${where[i]}`);
      if (r.builds.some((b) => b !== buildA && b !== buildB)) problems.push(`chain run ${i + 1} ran on ${where[i]}`);
      const startedOnB = r.builds[0] === buildB;
      if (r.startedAt > promoteEnd && !startedOnB) problems.push(`chain run ${i + 1} started after the promotion on A`);
      const lateOnA = r.taskTimes.filter((t, j) => r.builds[j] === buildA && t > promoteEnd + PROMOTION_FUZZ_MS);
      if (lateOnA.length > 0)
        problems.push(
          `chain run ${i + 1} (AUTO_UPGRADE) completed tasks on A at ${lateOnA.map((t) => at(t)).join(', ')}`,
        );
      if (startedOnB !== r.patches.includes(VARIANT_PATCH))
        problems.push(
          `chain run ${i + 1} (first task on ${startedOnB ? 'B' : 'A'}) has patch markers ${JSON.stringify(r.patches)}`,
        );
    }
    const chainOnA = chainRuns.filter((r) => r.builds.every((b) => b === buildA)).length;
    const chainOnB = chainRuns.filter((r) => r.builds.every((b) => b === buildB)).length;
    if (chainOnA === 0 || chainRuns.filter((r) => r.startedAt > promoteEnd).length === 0)
      problems.push(`the promotion was not mid-chain: ${where.join(' | ')}`);
    if (chainRuns.length !== result.runs)
      problems.push(`${chainRuns.length} chain runs listed, result says ${result.runs}`);

    // The children are pinned: each ran on one build, A if started before the promotion, B after it.
    let childrenA = 0;
    let childrenB = 0;
    let nearPromotion = 0;
    for (const r of children) {
      const builds = new Set(r.builds);
      const [only] = builds;
      if (builds.size !== 1 || (only !== buildA && only !== buildB)) {
        problems.push(`child ${r.workflowId} ran on ${summarizeBuilds(r.builds, buildA, buildB)}`);
        continue;
      }
      if (only === buildA) childrenA += 1;
      else childrenB += 1;
      if (r.startedAt < promoteStart - PROMOTION_FUZZ_MS && only !== buildA)
        problems.push(`child ${r.workflowId} started ${at(r.startedAt)}, before the promotion, and ran on B`);
      else if (r.startedAt > promoteEnd + PROMOTION_FUZZ_MS && only !== buildB)
        problems.push(`child ${r.workflowId} started ${at(r.startedAt)}, after the promotion, and ran on A`);
      else if (r.startedAt >= promoteStart - PROMOTION_FUZZ_MS && r.startedAt <= promoteEnd + PROMOTION_FUZZ_MS)
        nearPromotion += 1;
    }
    if (children.length !== CONNECTIONS) problems.push(`${children.length} children for ${CONNECTIONS} connections`);
    if (childrenA === 0 || childrenB === 0) problems.push(`children on A: ${childrenA}, on B: ${childrenB}`);

    // The refresh's first run and its extra run: pinned to A, the extra run although it began after the promotion.
    const [firstRun, extraRun] = refreshRuns;
    if (refreshRuns.length !== 2 || !firstRun || !extraRun) {
      problems.push(`the refresh made ${refreshRuns.length} runs, expected its first run and one extra run`);
    } else {
      if (firstRun.runId !== refresh.runId) problems.push(`the refresh's first run is ${firstRun.runId}`);
      if (extraRun.continuedFrom !== firstRun.runId) problems.push(`the extra run did not continue the first run`);
      for (const [name, r] of [
        ['first run', firstRun],
        ['extra run', extraRun],
      ] as const) {
        if (!r.builds.every((b) => b === buildA))
          problems.push(`the refresh's ${name} ran on ${summarizeBuilds(r.builds, buildA, buildB)}, not A only`);
      }
      if (extraRun.startedAt <= promoteEnd)
        problems.push(
          `the refresh's extra run started at ${at(extraRun.startedAt)}, before the promotion ended at ` +
            `${at(promoteEnd)}: it does not show that continue-as-new keeps a pinned run's build`,
        );
      say(
        `refresh: first run ${at(refreshStarted)}..${at(firstRun.closedAt ?? 0)}, extra run ` +
          `${at(extraRun.startedAt)}..${at(extraRun.closedAt ?? 0)}, both on ${summarizeBuilds([...firstRun.builds, ...extraRun.builds], buildA, buildB)}`,
      );
    }
    if (refreshSummary.trigger !== 'Refresh after Change Set Succeeded' || refreshSummary.total_aws !== 3)
      problems.push(`the refresh's result: ${JSON.stringify(refreshSummary)}`);
    if (refreshSummary.imported !== 0 || refreshSummary.matched !== 3)
      problems.push(`the refresh re-imported: ${JSON.stringify(refreshSummary)}`);
    const assumed = (await emulator.stats()).byAccount[slow.accountId]?.calls.AssumeRole;
    if (assumed !== 3)
      problems.push(`connection 0's role was assumed ${assumed} times, expected 3 (chain, 2 refresh runs)`);

    // Exact totals, and every connection's row and listings as seeded.
    const expectedTotals = {
      connections: { succeeded: CONNECTIONS, failed: 0, skipped: 0 },
      total_aws: totalProducts,
      matched: 0,
      updated: 0,
      auto_linked: 0,
      imported: totalProducts,
    };
    if (!isDeepStrictEqual(result.totals, expectedTotals) || result.failures.length > 0)
      problems.push(`chain result ${JSON.stringify(result.totals)}, failures ${JSON.stringify(result.failures)}`);
    const syncRuns = await db.collection('sync_runs').find().toArray();
    if (syncRuns.length !== 1 || syncRuns[0]?.status !== 'succeeded')
      problems.push(`sync_runs: ${JSON.stringify(syncRuns.map((r) => r.status))}`);
    const rows = new Map((await db.collection('connections').find().toArray()).map((d) => [String(d._id), d.sync]));
    const byTeam = new Map<string, string[]>();
    for (const row of await db
      .collection('listings')
      .find({}, { projection: { team_id: 1, entity_id: 1 } })
      .toArray()) {
      byTeam.set(String(row.team_id), [...(byTeam.get(String(row.team_id)) ?? []), String(row.entity_id)]);
    }
    const wrong: string[] = [];
    for (const s of seeds) {
      const sync = rows.get(s.id);
      const stored = (byTeam.get(s.teamId) ?? []).sort();
      const expected = s.products.map((p) => p.entityId).sort();
      if (sync?.status !== 'succeeded' || sync.summary?.total_aws !== expected.length)
        wrong.push(
          `${s.id}: sync ${sync?.status}, total_aws ${sync?.summary?.total_aws} (expected ${expected.length})`,
        );
      else if (JSON.stringify(stored) !== JSON.stringify(expected))
        wrong.push(`${s.id}: listings ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`);
    }
    if (wrong.length > 0) problems.push(`${wrong.length} connections wrong: ${wrong.slice(0, 5).join('; ')}`);
    const listingRows = [...byTeam.values()].reduce((n, ids) => n + ids.length, 0);
    if (listingRows !== totalProducts) problems.push(`${listingRows} listing rows for ${totalProducts} products`);

    // The figures.
    const runsOnA = runs.filter((r) => r.builds.every((b) => b === buildA)).length;
    const runsOnB = runs.filter((r) => r.builds.every((b) => b === buildB)).length;
    const refreshOnA = refreshRuns.filter((r) => r.builds.every((b) => b === buildA)).length;
    say(
      `runs: ${runs.length} (chain ${chainRuns.length}: ${chainOnA} on A, ${chainRuns.length - chainOnA - chainOnB} ` +
        `moved A -> B, ${chainOnB} on B; children ${childrenA} on A, ${childrenB} on B, ${nearPromotion} started ` +
        `within ${PROMOTION_FUZZ_MS / 1000} s of the promotion; refresh ${refreshOnA}/${refreshRuns.length} on A) = ${runsOnA} on A only, ` +
        `${runsOnB} on B only, ${runs.length - runsOnA - runsOnB} on both`,
    );
    const pinnedOnA = runs.filter((r) => r.type === 'syncConnection' && r.builds.every((b) => b === buildA));
    const pinnedTasksLate = pinnedOnA.flatMap((r) => r.taskTimes.filter((t) => t > promoteEnd)).length;
    const lastChainTaskOnA = Math.max(
      ...chainRuns.flatMap((r) => r.taskTimes.filter((_, j) => r.builds[j] === buildA)),
    );
    say(
      `after the promotion: ${pinnedTasksLate} tasks of runs pinned to A completed on A; the chain's last task on A ` +
        `completed ${((lastChainTaskOnA - promoteEnd) / 1000).toFixed(1)} s after the CLI returned`,
    );
    const lastOnA = Math.max(...pinnedOnA.map((r) => r.closedAt ?? 0));
    say(
      drained !== null
        ? `A drained ${((drained - promoteEnd) / 1000).toFixed(1)} s after the promotion, ` +
            `${((drained - lastOnA) / 1000).toFixed(1)} s after its last pinned run closed`
        : `A not drained ${DRAIN_DEADLINE_MS / 1000} s after the chain (its last pinned run closed at ${at(lastOnA)})`,
    );
    say(`${CONNECTIONS} connections synced by the chain in ${((chainDone - t0) / 1000).toFixed(1)} s; drill ${at()}`);

    assert.deepEqual(problems, []);
    passed = true;
  });
});

/** "A x3 + B x5": the builds that completed a run's workflow tasks, in order, with repeats counted. */
function summarizeBuilds(builds: string[], a: string, b: string): string {
  const parts: string[] = [];
  for (const build of builds) {
    const name = build === a ? 'A' : build === b ? 'B' : build;
    const last = parts.at(-1);
    if (last?.startsWith(`${name} x`)) parts[parts.length - 1] = `${name} x${Number(last.split(' x')[1]) + 1}`;
    else parts.push(`${name} x1`);
  }
  return parts.join(' + ') || '(no task completed)';
}

/** The JSON a `--json` run printed: its last line that is a JSON object (the SDK may log after it, on stderr). */
function parseCli<T>(run: CliRun): T | undefined {
  for (const line of run.out.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      return cliJson({ ...run, out: line }) as T;
    } catch {
      // Not JSON after all: a log line.
    }
  }
  return undefined;
}
