import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { ListingSyncClient } from '../src/client/index.ts';
import type { syncAll } from '../src/workflows/index.ts';
import { makeProducts } from '../test/helpers/emulator.ts';
import { seedConnection } from '../test/helpers/fixtures.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker } from '../test/helpers/stack.ts';

// Records the replay fixtures under test/fixtures/histories from real runs on a fresh local stack:
//   node --import tsx scripts/stack.ts exec node --import tsx scripts/record-histories.ts
// The Temporal CLI writes the histories, in the JSON form Worker.runReplayHistory reads back. Arguments name the
// groups to record (sync-connection, sync-all, refresh; default all): fixtures recorded by older code stay, and
// replaying them is what shows a change is compatible with runs already in flight.
const out = new URL('../test/fixtures/histories/', import.meta.url);
const stack = await openStack();
const iso = await isolatedDb(stack, 'record');
const db = iso.db;
const tq = uniqueTaskQueue('record');
const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
const saveHistory = (name: string, workflowId: string, runId: string) =>
  writeFileSync(
    new URL(`${name}.json`, out),
    execFileSync(cli, [
      'workflow',
      'show',
      '--address',
      stack.config.temporal.connection.address!,
      '-w',
      workflowId,
      '-r',
      runId,
      '--output',
      'json',
    ]),
  );

const groups = new Set(process.argv.slice(2));
const wanted = (group: string) => groups.size === 0 || groups.has(group);

await withWorker(
  tq,
  async () => {
    const app = ListingSyncClient.fromClient(stack.client, tq);
    if (wanted('refresh')) {
      // An event starts a sync; more arrive while it lists: the run continues as new once, named for the event.
      const slow = await seedConnection(db, { faults: { latencyMs: 1_500 } });
      const request = { eventId: 'record-1', detailType: 'Change Set Succeeded', account: slow.accountId };
      const { workflowId, runId } = await app.requestRefresh(slow.connectionId, request);
      await delay(2_200);
      for (let i = 2; i <= 4; i++) {
        await app.requestRefresh(slow.connectionId, {
          ...request,
          eventId: `record-${i}`,
          detailType: 'Offer Released',
        });
      }
      const handle = stack.client.workflow.getHandle(workflowId);
      const summary = await handle.result();
      if (summary.trigger !== 'Refresh after Offer Released')
        throw new Error(`no extra run: ${JSON.stringify(summary)}`);
      saveHistory('sync-connection-refresh-first-run', workflowId, runId);
      saveHistory('sync-connection-refresh-extra-run', workflowId, (await handle.describe()).runId);
    }
    if (!wanted('sync-connection') && !wanted('sync-all')) return;
    const ok = await seedConnection(db, {
      products: (a) => [...makeProducts(a, 'SaaSProduct', 120), ...makeProducts(a, 'AmiProduct', 3)],
      faults: { entityTypeErrors: { ProfessionalServicesProduct: { code: 'ValidationException' } } },
    });
    const denied = await seedConnection(db, { connection: { external_id: 'wrong-one' } });
    // One type loops, the other is reconciled: the run ends failed after recording its partial outcome.
    const looping = await seedConnection(db, {
      products: (a) => [...makeProducts(a, 'SaaSProduct', 60), ...makeProducts(a, 'AmiProduct', 2)],
      faults: { loopingTokens: { SaaSProduct: true } },
    });
    const singles = [
      ['sync-connection-succeeded', ok],
      ['sync-connection-denied', denied],
      ['sync-connection-type-failed', looping],
    ] as const;
    for (const [name, conn] of wanted('sync-connection') ? singles : []) {
      const { handle } = await app.startConnectionSync(conn.connectionId);
      await handle.result().catch(() => undefined);
      saveHistory(name, handle.workflowId, (await handle.describe()).runId);
    }
    if (!wanted('sync-all')) return;
    // A slow connection outlives the first run of the chain: it is handed over and reports by signal.
    await seedConnection(db, { faults: { latencyMs: 6_000 }, connection: { _id: 'a-slow-connection' } });
    const handle = await stack.client.workflow.start<typeof syncAll>('syncAll', {
      taskQueue: tq,
      workflowId: `record-sync-all-${Date.now()}`,
      args: [{ batchSize: 2, concurrency: 2 }],
    });
    const firstRunId = (await handle.describe()).runId;
    await handle.result();
    saveHistory('sync-all-first-run', handle.workflowId, firstRunId);
    saveHistory('sync-all-last-run', handle.workflowId, (await handle.describe()).runId);
  },
  { env: { MONGODB_URI: iso.uri } },
);
await iso.close();
await stack.close();
console.log(`Recorded histories into ${out.pathname}`);
