import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ListingSyncClient } from '../../src/client/index.ts';
import { FailureType } from '../../src/shared/failures.ts';
import { emulator, makeProducts } from '../helpers/emulator.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import { historyText } from '../helpers/history.ts';
import { openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';

describe('SyncConnection against the dev server, FerretDB and the emulator', function () {
  this.timeout(180_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  const listings = (teamId: string) =>
    stack.db.collection('listings').find({ team_id: teamId }).sort({ entity_id: 1 }).toArray();

  function appClient(taskQueue: string) {
    return ListingSyncClient.fromClient(stack.client, taskQueue);
  }

  it('imports every type with pagination, then a second run changes nothing', async () => {
    const tq = uniqueTaskQueue('import');
    const conn = await seedConnection(stack.db, {
      products: (acct) => [
        ...makeProducts(acct, 'SaaSProduct', 57),
        ...makeProducts(acct, 'AmiProduct', 4),
        ...makeProducts(acct, 'ContainerProduct', 2),
        ...makeProducts(acct, 'ProfessionalServicesProduct', 1),
      ],
    });
    await withWorker(tq, async () => {
      const first = await appClient(tq).syncConnectionNow(conn.connectionId);
      const { total_aws, matched, updated, auto_linked, imported } = first;
      assert.deepEqual(
        { total_aws, matched, updated, auto_linked, imported },
        { total_aws: 64, matched: 0, updated: 0, auto_linked: 0, imported: 64 },
      );
      const rows = await listings(conn.teamId);
      assert.equal(rows.length, 64);
      assert.equal(new Set(rows.map((r) => r.entity_id)).size, 64);
      const byType = rows.reduce<Record<string, number>>(
        (m, r) => ({ ...m, [r.catalog_type]: (m[r.catalog_type] ?? 0) + 1 }),
        {},
      );
      assert.deepEqual(byType, { SAAS: 57, AMI: 4, CONTAINER: 2, PROF: 1 });
      for (const row of rows) {
        const live = ['Public', 'Limited', 'Restricted'].includes(row.aws_visibility);
        assert.equal(row.status, live ? 'published' : 'complete', `${row.title} (${row.aws_visibility})`);
        assert.equal(row.published_at instanceof Date, live);
        assert.equal(row.connection_id, conn.connectionId);
        assert.ok(row.last_synced_at instanceof Date && row.aws_last_modified instanceof Date);
      }
      const stats = await emulator.stats();
      // 57 SaaS products need two pages at 50 per page; the other types one each; one AssumeRole.
      assert.deepEqual(stats.byAccount[conn.accountId]?.calls, {
        AssumeRole: 1,
        ListEntities: 5,
        BatchDescribeEntities: Math.ceil(64 / 20),
      });

      const second = await appClient(tq).syncConnectionNow(conn.connectionId);
      assert.equal(second.imported, 0);
      assert.equal(second.updated, 0);
      assert.equal(second.matched, 64);
      assert.deepEqual(
        await listings(conn.teamId),
        rows,
        'a second sync of an unchanged catalog must not touch a listing',
      );

      const sync = (await stack.db.collection('connections').findOne({ _id: conn.connectionId as never }))?.sync;
      assert.equal(sync?.status, 'succeeded');
      assert.equal(sync?.summary.matched, 64);
      assert.equal(sync?.error, null);
      assert.ok(sync?.finished_at >= sync?.started_at);
    });
  });

  it('refreshes only changed AWS metadata and never touches listing content', async () => {
    const tq = uniqueTaskQueue('update');
    let products = makeProducts('000000000000', 'SaaSProduct', 3);
    const conn = await seedConnection(stack.db, { products: () => products });
    await withWorker(tq, async () => {
      await appClient(tq).syncConnectionNow(conn.connectionId);
      const enriched = { description: 'Hand-written', ai_score: 91, title: 'Renamed by the seller' };
      const target = products[1]!;
      await stack.db
        .collection('listings')
        .updateOne({ team_id: conn.teamId, entity_id: target.entityId }, { $set: enriched });
      const before = await listings(conn.teamId);

      products = products.map((p) =>
        p === target ? { ...p, visibility: 'Restricted', lastModified: '2026-11-20T08:00:00Z' } : p,
      );
      await emulator.setProducts(conn.accountId, products);
      const summary = await appClient(tq).syncConnectionNow(conn.connectionId);
      assert.equal(summary.updated, 1);
      assert.equal(summary.matched, 3);
      assert.equal(summary.imported, 0);

      const after = await listings(conn.teamId);
      for (const [i, row] of after.entries()) {
        const old = before[i]!;
        if (row.entity_id !== target.entityId) {
          assert.deepEqual(row, old, 'unchanged products leave their rows alone');
          continue;
        }
        assert.equal(row.aws_visibility, 'Restricted');
        assert.deepEqual(row.aws_last_modified, new Date('2026-11-20T08:00:00Z'));
        assert.ok(row.last_synced_at > old.last_synced_at);
        assert.equal(row.last_sync_action, 'updated');
        const sync = [
          'aws_visibility',
          'aws_last_modified',
          'aws_missing_since',
          'last_synced_at',
          'last_sync_run_id',
          'last_sync_action',
          'aws_details',
          'aws_details_synced_at',
          'aws_details_modified',
          'aws_details_run_id',
          'aws_details_error',
        ];
        const omit = (r: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(r).filter(([k]) => !sync.includes(k)));
        assert.deepEqual(omit(row), omit(old), 'only the AWS metadata fields and the run mark may change');
        assert.equal(row.description, 'Hand-written');
        assert.equal(row.title, 'Renamed by the seller');
      }
    });
  });

  it('auto-links published unlinked rows by title and leaves ambiguous titles to a person', async () => {
    const tq = uniqueTaskQueue('link');
    const conn = await seedConnection(stack.db, {
      products: (acct) => [
        { ...makeProducts(acct, 'AmiProduct', 1)[0]!, name: 'Acme Vault' },
        { ...makeProducts(acct, 'SaaSProduct', 2)[0]!, name: 'Twin' },
        { ...makeProducts(acct, 'ContainerProduct', 1)[0]!, name: 'Shared Name' },
        { ...makeProducts(acct, 'SaaSProduct', 2)[1]!, name: 'Draft Row' },
      ],
    });
    const team = conn.teamId;
    await stack.db.collection('listings').insertMany([
      { team_id: team, title: '  acme VAULT ', status: 'published', description: 'keep me' },
      { team_id: team, title: 'Shared name', status: 'published' },
      { team_id: team, title: 'shared NAME', status: 'published' },
      { team_id: team, title: 'Draft Row', status: 'draft' },
    ]);
    await withWorker(tq, async () => {
      const summary = await appClient(tq).syncConnectionNow(conn.connectionId);
      assert.equal(summary.total_aws, 4);
      assert.equal(summary.auto_linked, 1);
      assert.equal(summary.imported, 2, 'Twin and Draft Row (the draft row is not published, so it is not linked)');
      assert.equal(summary.ambiguous.length, 1);
      assert.equal(summary.ambiguous[0]?.title, 'Shared Name');
      assert.equal(summary.ambiguous[0]?.listing_ids.length, 2);

      const linked = await stack.db.collection('listings').findOne({ team_id: team, description: 'keep me' });
      assert.equal(linked?.catalog_type, 'AMI');
      assert.match(String(linked?.entity_id), /^prod-/);
      assert.equal(linked?.title, '  acme VAULT ', 'linking keeps the row’s own title');
      const shared = await stack.db
        .collection('listings')
        .find({ team_id: team, title: /shared/i })
        .toArray();
      assert.equal(shared.length, 2, 'the ambiguous product is not imported as a third copy');
      assert.ok(shared.every((r) => r.entity_id === undefined));
    });
  });

  it('skips an entity type AWS will not list and syncs the others', async () => {
    const tq = uniqueTaskQueue('skip');
    const conn = await seedConnection(stack.db, {
      products: (acct) => [
        ...makeProducts(acct, 'SaaSProduct', 2),
        ...makeProducts(acct, 'ProfessionalServicesProduct', 2),
      ],
      faults: {
        entityTypeErrors: {
          ProfessionalServicesProduct: {
            code: 'ValidationException',
            message: 'Unsupported EntityType ProfessionalServicesProduct',
          },
        },
      },
    });
    await withWorker(tq, async () => {
      const summary = await appClient(tq).syncConnectionNow(conn.connectionId);
      assert.equal(summary.imported, 2);
      assert.equal(summary.skipped_types.length, 1);
      assert.equal(summary.skipped_types[0]?.entity_type, 'ProfessionalServicesProduct');
      assert.match(summary.skipped_types[0].reason, /Unsupported EntityType/);
    });
  });

  it('fails fast on a denied role, with the reason on connections.sync.error', async () => {
    const tq = uniqueTaskQueue('denied');
    const conn = await seedConnection(stack.db, { connection: { external_id: 'not-the-right-one' } });
    await withWorker(tq, async () => {
      const { handle } = await appClient(tq).startConnectionSync(conn.connectionId);
      const err = await handle.result().then(
        () => assert.fail('a denied role must fail the sync'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal((err.cause as { type?: string }).type, FailureType.AssumeRoleDenied);
      const stats = await emulator.stats();
      assert.equal(stats.byAccount[conn.accountId]?.calls.AssumeRole, 1, 'AccessDenied is not retried');
      const sync = (await stack.db.collection('connections').findOne({ _id: conn.connectionId as never }))?.sync;
      assert.equal(sync?.status, 'failed');
      assert.equal(sync?.error.type, FailureType.AssumeRoleDenied);
      assert.match(sync?.error.message, /trust policy/);
      assert.match(sync?.error.message, new RegExp(conn.roleArn));
    });
  });

  it('rejects a malformed connection before calling AWS', async () => {
    const tq = uniqueTaskQueue('invalid');
    const conn = await seedConnection(stack.db, {
      connection: { iam_role_arn: 'arn:aws:iam::12345:user/bob', external_id: '' },
    });
    await withWorker(tq, async () => {
      const { handle } = await appClient(tq).startConnectionSync(conn.connectionId);
      await assert.rejects(handle.result(), WorkflowFailedError);
      const sync = (await stack.db.collection('connections').findOne({ _id: conn.connectionId as never }))?.sync;
      assert.equal(sync?.error.type, FailureType.InvalidConnection);
      assert.match(sync?.error.message, /iam_role_arn .* is not an IAM role ARN/);
      assert.match(sync?.error.message, /external_id is missing/);
      assert.equal((await emulator.stats()).byAccount[conn.accountId], undefined, 'no AWS call was made');
    });
  });

  it('completes with exact counts when 30% of AWS calls are throttled', async () => {
    const tq = uniqueTaskQueue('throttle');
    const conn = await seedConnection(stack.db, {
      products: (acct) => [...makeProducts(acct, 'SaaSProduct', 120), ...makeProducts(acct, 'AmiProduct', 30)],
      faults: { throttleRate: 0.3 },
    });
    await withWorker(tq, async () => {
      const summary = await appClient(tq).syncConnectionNow(conn.connectionId);
      assert.equal(summary.total_aws, 150);
      assert.equal(summary.imported, 150);
      assert.equal((await listings(conn.teamId)).length, 150);
      const throttled = (await emulator.stats()).byAccount[conn.accountId]?.throttled ?? {};
      assert.ok(Object.values(throttled).reduce((a, b) => a + b, 0) > 0, 'the emulator did throttle');
    });
  });

  it('keeps every issued credential secret out of the workflow history', async () => {
    const tq = uniqueTaskQueue('secrets');
    const conn = await seedConnection(stack.db, {
      products: (acct) => makeProducts(acct, 'SaaSProduct', 130),
      faults: { throttleRate: 0.2 },
    });
    await withWorker(tq, async () => {
      const { handle } = await appClient(tq).startConnectionSync(conn.connectionId);
      await handle.result();
      const history = await historyText(handle);
      const issued = await emulator.issuedCredentials(conn.accountId);
      assert.ok(issued.length >= 1);
      for (const creds of issued) {
        assert.ok(!history.includes(creds.secretAccessKey), 'secret access key leaked into history');
        assert.ok(!history.includes(creds.sessionToken), 'session token leaked into history');
      }
      assert.match(history, /total_aws\\*":130/, 'payloads were decoded and searched');
      assert.ok(history.includes(`for connection ${conn.connectionId}`), 'activity summaries were searched');
    });
  });

  it('syncs 20,000 new products, with their AWS details, keeping every history payload under 256 KB', async () => {
    const tq = uniqueTaskQueue('large');
    const conn = await seedConnection(stack.db, {
      products: (acct) => [
        ...makeProducts(acct, 'SaaSProduct', 8_000),
        ...makeProducts(acct, 'AmiProduct', 6_000),
        ...makeProducts(acct, 'ContainerProduct', 4_000),
        ...makeProducts(acct, 'ProfessionalServicesProduct', 2_000),
      ],
    });
    await withWorker(tq, async () => {
      const started = Date.now();
      const { handle } = await appClient(tq).startConnectionSync(conn.connectionId);
      const summary = await handle.result();
      const seconds = (Date.now() - started) / 1000;
      assert.equal(summary.total_aws, 20_000);
      assert.equal(summary.imported, 20_000);
      assert.equal(summary.enriched, 20_000);
      const history = await handle.fetchHistory();
      let largest = 0;
      for (const event of history.events ?? []) largest = Math.max(largest, JSON.stringify(event).length);
      const calls = (await emulator.stats()).byAccount[conn.accountId]?.calls;
      console.log(
        `      20,000 new products: ${seconds.toFixed(1)} s, ${history.events?.length} events, largest event ` +
          `${(largest / 1024).toFixed(1)} KB, calls ${JSON.stringify(calls)}`,
      );
      assert.ok(largest < 256 * 1024, `an event of ${largest} bytes`);
      const staged = await stack.db
        .collection('sync_staging')
        .countDocuments({ run_id: (await handle.describe()).runId });
      assert.equal(staged, 0, 'staged pages are removed after the reconcile');
      assert.equal(calls?.ListEntities, 160 + 120 + 80 + 40, 'exactly ceil(products/50) ListEntities per type');
      assert.equal(calls?.BatchDescribeEntities, 20_000 / 20, 'exactly ceil(k/20) BatchDescribeEntities');
      assert.equal(calls?.AssumeRole, 1);
    });
  });

  it('a second start while a sync runs returns the running one', async () => {
    const tq = uniqueTaskQueue('dedupe');
    const conn = await seedConnection(stack.db, { faults: { latencyMs: 400 } });
    await withWorker(tq, async () => {
      const client = appClient(tq);
      const a = await client.startConnectionSync(conn.connectionId);
      const b = await client.startConnectionSync(conn.connectionId);
      assert.equal(a.workflowId, `sync-connection-${conn.connectionId}`);
      assert.equal(b.workflowId, a.workflowId);
      const [ra, rb] = await Promise.all([a.handle.describe(), b.handle.describe()]);
      assert.equal(rb.runId, ra.runId, 'both calls see the same run');
      await a.handle.result();
      assert.equal((await emulator.stats()).byAccount[conn.accountId]?.calls.AssumeRole, 1, 'one sync, not two');
    });
  });
});
