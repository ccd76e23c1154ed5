import assert from 'node:assert/strict';
import type { CommandStartedEvent } from 'mongodb';
import { createActivities } from '../../src/activities/index.ts';
import { ENTITY_TYPES } from '../../src/domain/entity-types.ts';
import { FailureType, NON_RETRYABLE_FAILURES } from '../../src/shared/failures.ts';
import type { ListCursor, ListEntitiesResult, RunRef } from '../../src/shared/types.ts';
import { createWorkerResources, type WorkerResources } from '../../src/worker/create-worker.ts';
import { emulator, makeProducts } from '../helpers/emulator.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import { testConfig } from '../helpers/stack.ts';
import { mockActivityEnv, runActivity } from '../helpers/activity-env.ts';

describe('activities in MockActivityEnvironment (real FerretDB and emulator)', function () {
  this.timeout(300_000);
  let resources: WorkerResources;
  let commands: CommandStartedEvent[] = [];

  before(async () => {
    resources = await createWorkerResources(testConfig(), { mongoOptions: { monitorCommands: true } });
    resources.mongo.on('commandStarted', (event: CommandStartedEvent) => commands.push(event));
  });
  after(async () => resources?.close());

  const ref = (connectionId: string, runId: string): RunRef => ({ connectionId, workflowId: `wf-${runId}`, runId });

  it('listEntities heartbeats its cursor and a retried attempt resumes from it', async () => {
    const acts = createActivities(resources.deps);
    const conn = await seedConnection(resources.deps.db, { products: (a) => makeProducts(a, 'SaaSProduct', 180) });
    const runRef = ref(conn.connectionId, `resume-${conn.accountId}`);
    await runActivity(acts.assumeRole, mockActivityEnv(), runRef);

    const first = mockActivityEnv();
    const beats: ListCursor[] = [];
    first.on('heartbeat', (d: ListCursor) => beats.push(d));
    const partial = await runActivity(acts.listEntities, first, {
      ...runRef,
      entityType: 'SaaSProduct' as const,
      maxPages: 3,
    });
    assert.equal(partial.status, 'partial');
    // Pages 1 and 2 (100 products) are held in memory, so a retry could not resume after them; page 3
    // outgrows the inline limit, stages all three, and only then does the cursor move.
    assert.deepEqual([...new Set(beats.filter(Boolean).map((b) => b.pages))], [3]);
    assert.equal(beats.at(-1)?.seen.length, 2, 'the tokens already sent travel with the cursor');

    // A new attempt sees the last heartbeat, as Temporal hands it over after a worker crash.
    const retry = mockActivityEnv({ heartbeatDetails: beats.at(-1), attempt: 2 });
    const done = await runActivity(acts.listEntities, retry, { ...runRef, entityType: 'SaaSProduct' as const });
    assert.equal(done.status, 'complete');
    assert.equal(done.status === 'complete' && done.products, 180);
    assert.equal(done.status === 'complete' && done.pages, 4);
    const calls = (await emulator.stats()).byAccount[conn.accountId]?.calls;
    assert.equal(calls?.ListEntities, 4, 'page 4 was fetched once, pages 1 to 3 not again');

    const summary = await runActivity(acts.reconcile, mockActivityEnv(), {
      ...runRef,
      teamId: conn.teamId,
      lists: [done],
    });
    assert.equal(summary.imported, 180, 'staged pages from both attempts are all reconciled');
  });

  async function syncWithoutTemporal(productsPerType: number) {
    const acts = createActivities(resources.deps);
    const conn = await seedConnection(resources.deps.db, {
      products: (a) => ENTITY_TYPES.flatMap((t) => makeProducts(a, t, productsPerType)),
    });
    const runRef = ref(conn.connectionId, `count-${conn.accountId}`);
    await runActivity(acts.assumeRole, mockActivityEnv(), runRef);
    const lists: ListEntitiesResult[] = [];
    for (const entityType of ENTITY_TYPES) {
      lists.push(await runActivity(acts.listEntities, mockActivityEnv(), { ...runRef, entityType }));
    }
    commands = [];
    const started = Date.now();
    const summary = await runActivity(acts.reconcile, mockActivityEnv(), {
      ...runRef,
      teamId: conn.teamId,
      lists,
    });
    const ms = Date.now() - started;
    const roundTrips = commands.filter((c) => !['hello', 'isMaster', 'ping', 'endSessions'].includes(c.commandName));
    return { summary, roundTrips, ms };
  }

  it('reconcile makes the same small number of MongoDB round trips for 400 and 20,000 products', async () => {
    const small = await syncWithoutTemporal(100);
    const large = await syncWithoutTemporal(5_000);
    assert.equal(small.summary.imported, 400);
    assert.equal(large.summary.imported, 20_000);
    const names = (r: typeof small) => r.roundTrips.map((c) => `${c.commandName}`).join(',');
    console.log(
      `      reconcile round trips: 400 products -> ${small.roundTrips.length} (${names(small)}) in ${small.ms} ms`,
    );
    console.log(
      `      reconcile round trips: 20,000 products -> ${large.roundTrips.length} (${names(large)}) in ${large.ms} ms`,
    );
    assert.ok(large.roundTrips.length <= 10, `reconcile made ${large.roundTrips.length} round trips`);
    // The only growth is the wire protocol's: 16 MB read batches (getMore) and 48 MB write batches, here 50
    // times the products (with their AWS details) for at most 6 more commands.
    assert.ok(large.roundTrips.length - small.roundTrips.length <= 6, 'round trips do not grow with the product count');
  });

  // A session AWS stops accepting mid-describe (expired, revoked) is the session's problem, not the role's: the
  // reconcile fails retryably, forgets the session, and its next attempt assumes the role again and finishes.
  it('retries a reconcile whose role session is rejected mid-describe with a fresh session', async () => {
    let rejectNext = false;
    const deps = {
      ...resources.deps,
      catalogClient: (credentials: Parameters<typeof resources.deps.catalogClient>[0]) => {
        const client = resources.deps.catalogClient(credentials);
        // After signing, the session token is swapped once for one AWS never issued: a real rejection by the
        // emulator (UnrecognizedClientException), as an expired or revoked session gets.
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const request = args.request as { headers: Record<string, string> };
            if (rejectNext && context.commandName === 'BatchDescribeEntitiesCommand') {
              rejectNext = false;
              request.headers['x-amz-security-token'] = 'a-session-aws-no-longer-accepts';
            }
            return next(args);
          },
          { step: 'finalizeRequest', priority: 'low', name: 'rejectSessionOnce' },
        );
        return client;
      },
    };
    const acts = createActivities(deps);
    const conn = await seedConnection(resources.deps.db, { products: (a) => makeProducts(a, 'SaaSProduct', 25) });
    const runRef = ref(conn.connectionId, `rejected-${conn.accountId}`);
    await runActivity(acts.assumeRole, mockActivityEnv(), runRef);
    const lists = await runActivity(acts.listFirstPages, mockActivityEnv(), {
      ...runRef,
      entityTypes: [...ENTITY_TYPES],
      maxPages: 2,
    });
    rejectNext = true;
    const input = { ...runRef, teamId: conn.teamId, lists };
    const failure = await runActivity(acts.reconcile, mockActivityEnv(), input).then(
      () => assert.fail('the first attempt succeeded'),
      (err: unknown) => err as { type?: string; nonRetryable?: boolean; message: string },
    );
    assert.equal(failure.type, FailureType.CatalogUnavailable, failure.message);
    assert.ok(!NON_RETRYABLE_FAILURES.includes(failure.type), 'the retry policy retries it');
    assert.ok(!failure.nonRetryable);
    assert.match(failure.message, /stopped accepting the role session while describing/);
    assert.equal(await resources.deps.db.collection('listings').countDocuments({ team_id: conn.teamId }), 0);

    // The retry: a fresh AssumeRole, then every product imported with its details.
    const before = (await emulator.stats()).byAccount[conn.accountId]?.calls.AssumeRole ?? 0;
    const summary = await runActivity(acts.reconcile, mockActivityEnv({ attempt: 2 }), input);
    assert.equal(summary.imported, 25);
    assert.equal(summary.enriched, 25);
    assert.equal((await emulator.stats()).byAccount[conn.accountId]?.calls.AssumeRole, before + 1);
  });
});
