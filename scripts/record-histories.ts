import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { MongoClient } from 'mongodb';
import { ListingSyncClient } from '../src/client/index.ts';
import type { syncAll } from '../src/workflows/index.ts';
import { emulator, makeProducts } from '../test/helpers/emulator.ts';
import { seedConnection } from '../test/helpers/fixtures.ts';
import { openStack, uniqueTaskQueue, withWorker } from '../test/helpers/stack.ts';

// Records the replay fixtures under test/fixtures/histories from real runs on the local stack:
//   scripts/test.sh is not needed; run `node --import tsx scripts/stack.ts exec node --import tsx scripts/record-histories.ts`.
const out = new URL('../test/fixtures/histories/', import.meta.url);
const stack = await openStack();
const url = new URL(stack.config.mongo.uri);
url.pathname = `/listing_sync_record_${Date.now()}`;
const mongo = await new MongoClient(url.toString()).connect();
const db = mongo.db(url.pathname.slice(1));
const tq = uniqueTaskQueue('record');

await withWorker(
  tq,
  async () => {
    const app = ListingSyncClient.fromClient(stack.client, tq);
    const ok = await seedConnection(db, {
      products: (a) => [...makeProducts(a, 'SaaSProduct', 120), ...makeProducts(a, 'AmiProduct', 3)],
      faults: { entityTypeErrors: { ProfessionalServicesProduct: { code: 'ValidationException' } } },
    });
    const denied = await seedConnection(db, { connection: { external_id: 'wrong-one' } });
    for (const [name, conn] of [
      ['sync-connection-succeeded', ok],
      ['sync-connection-denied', denied],
    ] as const) {
      const { handle } = await app.startConnectionSync(conn.connectionId);
      await handle.result().catch(() => undefined);
      writeFileSync(new URL(`${name}.json`, out), historyToJSON(await handle.fetchHistory()));
    }
    await emulator.stats();
    const handle = await stack.client.workflow.start<typeof syncAll>('syncAll', {
      taskQueue: tq,
      workflowId: `record-sync-all-${Date.now()}`,
      args: [{ batchSize: 10, concurrency: 2 }],
    });
    await handle.result();
    writeFileSync(new URL('sync-all-last-run.json', out), historyToJSON(await handle.fetchHistory()));
  },
  { env: { MONGODB_URI: url.toString() } },
);
await mongo.close();
await stack.close();
console.log(`Recorded histories into ${out.pathname}`);
