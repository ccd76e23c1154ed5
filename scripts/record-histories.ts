import { existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { ListingSyncClient } from '../src/client/index.ts';
import type { syncAll } from '../src/workflows/index.ts';
import { makeProducts } from '../test/helpers/emulator.ts';
import { seedConnection } from '../test/helpers/fixtures.ts';
import { isolatedDb, openStack, uniqueTaskQueue, withWorker } from '../test/helpers/stack.ts';

// Adds replay fixtures to test/fixtures/histories from real runs on a fresh local stack:
//   node --import tsx scripts/stack.ts exec node --import tsx scripts/record-histories.ts [group...]
// Groups: sync-connection, preview, refresh, sync-all (default all). Each file is named `<what>@<version>.json`,
// the version being the commit whose workflow code ran (RECORD_AS overrides it). The corpus only grows: an existing
// file is never overwritten, and histories recorded by older code stay, because replaying them is what shows that a
// change is safe for runs already in flight. An intended change to a workflow adds a patch (or relies on pinning)
// and adds fixtures; it never re-records old ones.
const out = new URL('../test/fixtures/histories/', import.meta.url);

function recordingVersion(): string {
  if (process.env.RECORD_AS) return process.env.RECORD_AS;
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/workflows', 'src/shared', 'src/domain'])
    .toString()
    .trim();
  if (dirty) {
    throw new Error(
      'The workflow code has uncommitted changes, so no commit names the code that would record: commit first, or set RECORD_AS',
    );
  }
  return execFileSync('git', ['rev-parse', '--short=7', 'HEAD']).toString().trim();
}

const version = recordingVersion();
const stack = await openStack();
const iso = await isolatedDb(stack, 'record');
const db = iso.db;
const tq = uniqueTaskQueue('record');
const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
const saved: string[] = [];
const saveHistory = (name: string, workflowId: string, runId: string) => {
  const file = new URL(`${name}@${version}.json`, out);
  if (existsSync(file)) throw new Error(`${file.pathname} exists: fixtures are added, never overwritten`);
  const json = execFileSync(cli, [
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
  ]);
  writeFileSync(file, json, { flag: 'wx' });
  saved.push(file.pathname);
};

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
    if (wanted('sync-connection') || wanted('preview')) {
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
      // More than the fast path's two pages in two types: both go on to the patient, heartbeating listing activity.
      const large = await seedConnection(db, {
        products: (a) => [...makeProducts(a, 'SaaSProduct', 260), ...makeProducts(a, 'ContainerProduct', 140)],
      });
      if (wanted('sync-connection')) {
        const singles = [
          ['sync-connection-succeeded', ok],
          ['sync-connection-denied', denied],
          ['sync-connection-type-failed', looping],
          ['sync-connection-large-catalog', large],
        ] as const;
        for (const [name, conn] of singles) {
          const { handle } = await app.startConnectionSync(conn.connectionId);
          await handle.result().catch(() => undefined);
          saveHistory(name, handle.workflowId, (await handle.describe()).runId);
        }
      }
      if (wanted('preview')) {
        const previews = [
          ['preview-connection-succeeded', ok],
          ['preview-connection-denied', denied],
        ] as const;
        for (const [name, conn] of previews) {
          await app.previewConnectionSync(conn.connectionId).catch(() => undefined);
          const handle = stack.client.workflow.getHandle(`preview-connection-${conn.connectionId}`);
          saveHistory(name, handle.workflowId, (await handle.describe()).runId);
        }
      }
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
    saveHistory('sync-all-hand-over-first-run', handle.workflowId, firstRunId);
    saveHistory('sync-all-hand-over-last-run', handle.workflowId, (await handle.describe()).runId);
  },
  { env: { MONGODB_URI: iso.uri } },
);
await iso.close();
await stack.close();
console.log(`Added ${saved.length} histories:\n  ${saved.join('\n  ')}`);
