import assert from 'node:assert/strict';
import { FailureType } from '../../src/shared/failures.ts';
import type { SyncAllResult, SyncSummary } from '../../src/shared/types.ts';
import type { syncAll } from '../../src/workflows/index.ts';
import { emulator, makeProducts } from '../helpers/emulator.ts';
import { seedConnection, type SeededConnection } from '../helpers/fixtures.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';

const OUTAGE_MS = 120_000;

/**
 * One SyncAll over connections whose AWS misbehaves in every way the emulator can, beside healthy ones:
 * each hostile case ends in its named outcome, and every other connection of the same run is exact.
 */
describe('hostile AWS during a SyncAll', function () {
  this.timeout(600_000);
  let stack: TestStack;
  before(async () => {
    stack = await openStack();
  });
  after(async () => stack?.close());

  it('rides out outages, ends loops and hangs by name, reports odd data, and keeps the rest exact', async () => {
    const tq = uniqueTaskQueue('hostile');
    const iso = await isolatedDb(stack, 'hostile');
    try {
      const healthy: SeededConnection[] = [];
      for (let i = 0; i < 8; i += 1) {
        healthy.push(
          await seedConnection(iso.db, {
            products: (a) => [...makeProducts(a, 'SaaSProduct', i + 1), ...makeProducts(a, 'AmiProduct', i % 3)],
          }),
        );
      }
      const throttled = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'ContainerProduct', 4) });
      const badGateway = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'SaaSProduct', 60) });
      const looping = await seedConnection(iso.db, {
        products: (a) => [...makeProducts(a, 'SaaSProduct', 120), ...makeProducts(a, 'AmiProduct', 3)],
      });
      const hung = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'SaaSProduct', 2) });
      const odd = await seedConnection(iso.db, { products: (a) => makeProducts(a, 'SaaSProduct', 2) });
      const china = await seedConnection(iso.db, {
        connection: { iam_role_arn: 'arn:aws-cn:iam::123456789012:role/ListingSync', aws_account_id: null },
      });

      // Set last, so the outages run from the moment the SyncAll starts.
      await emulator.setFaults(looping.accountId, { loopingTokens: { SaaSProduct: true } });
      await emulator.setFaults(hung.accountId, { hang: { operations: ['ListEntities'] } });
      await emulator.setFaults(odd.accountId, {
        oddSummaries: {
          SaaSProduct: [
            { EntityId: `prod-odd-${odd.accountId}`, Name: 42, Visibility: 'Public', LastModifiedDate: 7 },
            { EntityId: `prod-ami-${odd.accountId}`, EntityType: 'AmiProduct', Name: 'Listed under the wrong type' },
            { Name: 'No id at all', Visibility: 'Public' },
          ],
        },
      });
      await emulator.setFaults(throttled.accountId, { outage: { durationMs: OUTAGE_MS, status: 429 } });
      // AssumeRole answers, so the 502s meet the listing: the fast path hands over to the patient path.
      await emulator.setFaults(badGateway.accountId, {
        outage: { durationMs: OUTAGE_MS, status: 502, operations: ['ListEntities'] },
      });

      await withWorker(
        tq,
        async () => {
          const started = Date.now();
          const handle = await stack.client.workflow.start<typeof syncAll>('syncAll', {
            taskQueue: tq,
            workflowId: `sync-all-test-${tq}`,
            // Small pages: the hung connection is handed over across several continue-as-news.
            args: [{ batchSize: 4, concurrency: 6 }],
          });
          const result: SyncAllResult = await handle.result();
          const seconds = (Date.now() - started) / 1000;
          console.log(`      hostile SyncAll: ${seconds.toFixed(0)} s, ${result.runs} runs`);

          const docs = await iso.db.collection('connections').find().toArray();
          const sync = new Map(docs.map((d) => [String(d._id), d.sync as Record<string, any>]));
          const rows = async (c: SeededConnection) =>
            iso.db.collection('listings').find({ team_id: c.teamId }).toArray();

          // Two minutes of 429s (AssumeRole included) and of a proxy's 502s end in success.
          for (const c of [throttled, badGateway]) {
            assert.equal(sync.get(c.connectionId)?.status, 'succeeded', JSON.stringify(sync.get(c.connectionId)));
          }
          assert.equal((await rows(throttled)).length, 4);
          assert.equal((await rows(badGateway)).length, 60);

          // A looping token ends that type by name after a handful of extra calls; the other type is synced.
          const loop = sync.get(looping.connectionId);
          assert.equal(loop?.status, 'failed');
          assert.equal(loop?.error.type, FailureType.CatalogPaginationLoop);
          assert.match(loop?.error.message, /SaaSProduct could not be listed; the other types were synced/);
          assert.deepEqual(
            (await rows(looping)).map((r) => r.catalog_type),
            ['AMI', 'AMI', 'AMI'],
          );
          const loopCalls = (await emulator.stats()).byAccount[looping.accountId]?.calls.ListEntities ?? 0;
          const legitimate = 3 + 3; // three SaaS pages, one page of each other type
          console.log(`      looping token: ${loopCalls - legitimate} extra ListEntities calls`);
          assert.ok(loopCalls - legitimate <= 10, `a looping token cost ${loopCalls - legitimate} extra calls`);

          // A hung endpoint fails by name, in minutes, and held up nobody.
          const hang = sync.get(hung.connectionId);
          assert.equal(hang?.status, 'failed');
          assert.equal(hang?.error.type, FailureType.CatalogUnavailable);
          assert.match(hang?.error.message, /did not answer/);
          assert.match(hang?.error.message, /gave up/);
          const hangSeconds = (hang?.finished_at.getTime() - hang?.started_at.getTime()) / 1000;
          console.log(`      hung endpoint failed by name after ${hangSeconds.toFixed(0)} s`);
          assert.ok(hangSeconds <= 300, `the hung connection took ${hangSeconds} s to fail`);
          for (const c of healthy) {
            const s = sync.get(c.connectionId);
            assert.ok(
              s?.finished_at.getTime() < hang?.finished_at.getTime() - 60_000,
              `${c.connectionId} finished long before the hung one`,
            );
          }

          // Odd summaries are reported, with fallbacks where the product can still be tracked.
          const oddSync = sync.get(odd.connectionId);
          assert.equal(oddSync?.status, 'succeeded');
          const oddSummary = oddSync?.summary as SyncSummary;
          assert.equal(oddSummary.invalid, 2);
          assert.match(oddSummary.invalid_products.join('\n'), /listed it as EntityType "AmiProduct"/);
          assert.match(oddSummary.invalid_products.join('\n'), /unusable EntityId/);
          const oddRows = await rows(odd);
          assert.equal(oddRows.length, 3);
          assert.ok(oddRows.some((r) => r.entity_id === `prod-odd-${odd.accountId}` && r.title === r.entity_id));

          // A role outside the aws partition is refused before any AWS call.
          assert.equal(sync.get(china.connectionId)?.error.type, FailureType.InvalidConnection);
          assert.match(sync.get(china.connectionId)?.error.message, /aws-cn partition/);

          let healthyProducts = 0;
          for (const [i, c] of healthy.entries()) {
            const expected = i + 1 + (i % 3);
            healthyProducts += expected;
            assert.equal(sync.get(c.connectionId)?.status, 'succeeded');
            const own = await rows(c);
            assert.equal(own.length, expected);
            assert.equal(new Set(own.map((r) => r.entity_id)).size, expected);
          }

          const imported = healthyProducts + 4 + 60 + 3 + 3;
          assert.deepEqual(result.totals.connections, { succeeded: 8 + 3, failed: 3, skipped: 0 });
          assert.equal(result.totals.imported, imported, 'the looping connection counts the type it did sync');
          assert.equal(result.totals.total_aws, imported);
          assert.deepEqual(
            new Set(result.failures.map((f) => `${f.connection_id}:${f.type}`)),
            new Set([
              `${looping.connectionId}:${FailureType.CatalogPaginationLoop}`,
              `${hung.connectionId}:${FailureType.CatalogUnavailable}`,
              `${china.connectionId}:${FailureType.InvalidConnection}`,
            ]),
          );
          const run = await iso.db.collection('sync_runs').findOne({});
          assert.equal(run?.status, 'succeeded');
          assert.deepEqual(run?.totals, result.totals);
        },
        { env: { MONGODB_URI: iso.uri } },
      );
    } finally {
      await iso.close();
    }
  });
});
