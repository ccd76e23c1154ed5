import assert from 'node:assert/strict';
import { ListingSyncClient } from '../../src/client/index.ts';
import { emulator, makeProducts, type EmulatorProduct } from '../helpers/emulator.ts';
import { seedConnection } from '../helpers/fixtures.ts';
import { openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';

/** AWS's copy of each product, products gone from AWS, and the dry-run preview, on the real servers. */
describe('listing content from AWS, products gone from AWS, preview', function () {
  this.timeout(300_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  const rows = (teamId: string) =>
    stack.db.collection('listings').find({ team_id: teamId }).sort({ entity_id: 1 }).toArray();
  const describeCalls = async (accountId: string) =>
    (await emulator.stats()).byAccount[accountId]?.calls.BatchDescribeEntities ?? 0;

  it('stores AWS details per type with the minimum calls, re-describes only what moved, keeps content', async () => {
    const tq = uniqueTaskQueue('details');
    let products: EmulatorProduct[] = [];
    const conn = await seedConnection(stack.db, {
      products: (a) =>
        (products = [
          ...makeProducts(a, 'SaaSProduct', 25),
          ...makeProducts(a, 'AmiProduct', 2),
          ...makeProducts(a, 'ContainerProduct', 2),
          ...makeProducts(a, 'ProfessionalServicesProduct', 1),
        ]),
    });
    await withWorker(tq, async () => {
      const app = ListingSyncClient.fromClient(stack.client, tq);
      const first = await app.syncConnectionNow(conn.connectionId);
      assert.equal(first.imported, 30);
      assert.equal(first.enriched, 30);
      assert.equal(first.enrich_errors, 0);
      assert.equal(await describeCalls(conn.accountId), Math.ceil(30 / 20), 'ceil(k/20) BatchDescribeEntities');
      const stored = await rows(conn.teamId);
      for (const row of stored) {
        const product = products.find((p) => p.entityId === row.entity_id)!;
        assert.equal(row.aws_details.short_description, `Short description of ${product.name}`, row.catalog_type);
        assert.match(row.aws_details.long_description, /^Long description of/);
        assert.equal(row.aws_details.highlights.length, 3);
        assert.ok(row.aws_details.categories.length > 0);
        assert.ok(Array.isArray(row.aws_details.search_keywords));
        assert.equal(row.aws_details.logo_url, `https://awsmp-logos.s3.amazonaws.com/${product.entityId}.png`);
        assert.match(row.aws_details.support_description, /^Support for/);
        assert.ok(row.aws_details_synced_at instanceof Date);
        // Seeded on insert from AWS's copy.
        assert.equal(row.short_description, row.aws_details.short_description);
      }
      assert.deepEqual([...new Set(stored.map((r) => r.catalog_type))].sort(), ['AMI', 'CONTAINER', 'PROF', 'SAAS']);

      const unchanged = await app.syncConnectionNow(conn.connectionId);
      assert.equal(unchanged.enriched, 0);
      assert.equal(await describeCalls(conn.accountId), 2, 'an unchanged, described catalog makes no describe call');

      // The seller edits their copy; AWS changes one product.
      const target = products[3]!;
      await stack.db
        .collection('listings')
        .updateOne(
          { team_id: conn.teamId, entity_id: target.entityId },
          { $set: { short_description: 'Mine', title: 'My title' } },
        );
      products = products.map((p) =>
        p === target ? { ...p, name: 'Renamed in AWS', lastModified: '2026-11-24T10:00:00Z' } : p,
      );
      await emulator.setProducts(conn.accountId, products);
      const moved = await app.syncConnectionNow(conn.connectionId);
      assert.equal(moved.enriched, 1);
      assert.equal(await describeCalls(conn.accountId), 3, 'only the moved product is described again');
      const row = (await rows(conn.teamId)).find((r) => r.entity_id === target.entityId)!;
      assert.equal(row.aws_details.short_description, 'Short description of Renamed in AWS');
      assert.equal(row.short_description, 'Mine', "the seller's content is never written after insert");
      assert.equal(row.title, 'My title');
    });
  });

  it('records per-entity describe errors on the row and syncs the rest', async () => {
    const tq = uniqueTaskQueue('describe-errors');
    const conn = await seedConnection(stack.db, { products: (a) => makeProducts(a, 'SaaSProduct', 3) });
    const broken = makeProducts(conn.accountId, 'SaaSProduct', 3)[1]!;
    await emulator.setFaults(conn.accountId, {
      describeErrors: { [broken.entityId]: { code: 'ResourceNotFoundException', message: 'gone for a moment' } },
    });
    await withWorker(tq, async () => {
      const summary = await ListingSyncClient.fromClient(stack.client, tq).syncConnectionNow(conn.connectionId);
      assert.equal(summary.imported, 3);
      assert.equal(summary.enriched, 2);
      assert.equal(summary.enrich_errors, 1);
      const row = (await rows(conn.teamId)).find((r) => r.entity_id === broken.entityId)!;
      assert.equal(row.aws_details_error.code, 'ResourceNotFoundException');
      assert.equal(row.aws_details_error.message, 'gone for a moment');
      assert.equal(row.aws_details, undefined);

      await emulator.setFaults(conn.accountId, { describeErrors: null });
      const again = await ListingSyncClient.fromClient(stack.client, tq).syncConnectionNow(conn.connectionId);
      assert.equal(again.enriched, 1, 'the row that failed is described on the next sync');
      const fixed = (await rows(conn.teamId)).find((r) => r.entity_id === broken.entityId)!;
      assert.equal(fixed.aws_details_error, null);
      assert.ok(fixed.aws_details.short_description);
    });
  });

  it('flags a product gone from AWS, clears the flag when it returns, and never flags what it did not list', async () => {
    const tq = uniqueTaskQueue('missing');
    let products: EmulatorProduct[] = [];
    const conn = await seedConnection(stack.db, {
      products: (a) => (products = [...makeProducts(a, 'SaaSProduct', 3), ...makeProducts(a, 'AmiProduct', 2)]),
    });
    // Another connection of the same team, whose rows this connection's sync must never flag.
    const sibling = await seedConnection(stack.db, {
      teamId: conn.teamId,
      products: (a) => makeProducts(a, 'SaaSProduct', 2, 'Sibling'),
    });
    await withWorker(tq, async () => {
      const app = ListingSyncClient.fromClient(stack.client, tq);
      await app.syncConnectionNow(conn.connectionId);
      await app.syncConnectionNow(sibling.connectionId);
      const gone = products[0]!;
      const goneAmi = products[3]!;
      await emulator.setProducts(
        conn.accountId,
        products.filter((p) => p !== gone && p !== goneAmi),
      );
      // AWS will not list AmiProduct this time (skipped): its missing product must not be flagged.
      await emulator.setFaults(conn.accountId, {
        entityTypeErrors: { AmiProduct: { code: 'ValidationException' } },
      });
      const flagged = await app.syncConnectionNow(conn.connectionId);
      assert.deepEqual(
        flagged.skipped_types.map((t) => t.entity_type),
        ['AmiProduct'],
      );
      assert.equal(flagged.missing, 1);
      let all = await rows(conn.teamId);
      const byId = new Map(all.map((r) => [r.entity_id, r]));
      assert.ok(byId.get(gone.entityId)?.aws_missing_since instanceof Date, 'gone from a completely listed type');
      assert.equal(byId.get(goneAmi.entityId)?.aws_missing_since ?? null, null, 'its type failed: not flagged');
      for (const row of all.filter((r) => r.connection_id === sibling.connectionId)) {
        assert.equal(row.aws_missing_since ?? null, null, "another connection's rows are never flagged");
      }
      assert.equal(all.length, 7, 'nothing is deleted');
      const flaggedAt = byId.get(gone.entityId)!.aws_missing_since as Date;

      await emulator.setFaults(conn.accountId, { entityTypeErrors: null });
      const still = await app.syncConnectionNow(conn.connectionId);
      assert.equal(still.missing, 2, 'flagged rows count again, the AMI one now too');
      all = await rows(conn.teamId);
      assert.deepEqual(
        all.find((r) => r.entity_id === gone.entityId)?.aws_missing_since,
        flaggedAt,
        'the first flag time is kept',
      );

      await emulator.setProducts(conn.accountId, products);
      const back = await app.syncConnectionNow(conn.connectionId);
      assert.equal(back.missing, 0);
      all = await rows(conn.teamId);
      for (const row of all) assert.equal(row.aws_missing_since ?? null, null, `${row.entity_id} listed again`);
    });
  });

  it('previews a sync without writing anything, and the sync then does exactly that', async () => {
    const tq = uniqueTaskQueue('preview');
    let products: EmulatorProduct[] = [];
    const conn = await seedConnection(stack.db, {
      products: (a) => (products = makeProducts(a, 'SaaSProduct', 130)),
    });
    await stack.db.collection('listings').insertMany([
      { team_id: conn.teamId, title: products[5]!.name, status: 'published', entity_id: null },
      {
        team_id: conn.teamId,
        connection_id: conn.connectionId,
        entity_id: 'prod-gone',
        catalog_type: 'SAAS',
        title: 'Gone',
        status: 'published',
      },
    ]);
    const snapshot = async () => ({
      listings: await stack.db.collection('listings').find({ team_id: conn.teamId }).sort({ _id: 1 }).toArray(),
      connection: await stack.db.collection('connections').findOne({ _id: conn.connectionId as never }),
      staging: await stack.db.collection('sync_staging').countDocuments({}),
    });
    await withWorker(tq, async () => {
      const app = ListingSyncClient.fromClient(stack.client, tq);
      const before = await snapshot();
      const preview = await app.previewConnectionSync(conn.connectionId);
      assert.deepEqual(await snapshot(), before, 'a preview writes nothing');
      assert.deepEqual(preview.would, { update: 0, link: 1, import: 129, flag_missing: 1, describe: 130 });
      assert.deepEqual(preview.titles.link, [products[5]!.name]);
      assert.equal(preview.titles.import.length, 50);
      assert.deepEqual(preview.titles.flag_missing, ['Gone']);

      const summary = await app.syncConnectionNow(conn.connectionId);
      assert.deepEqual(
        {
          update: summary.updated,
          link: summary.auto_linked,
          import: summary.imported,
          flag_missing: summary.missing,
          describe: summary.enriched + summary.enrich_errors,
        },
        preview.would,
        'the sync does what the preview said',
      );
    });
  });
});
