import assert from 'node:assert/strict';
import { scheduleHandle } from '../../src/client/schedule.ts';
import { cliJson, runCli } from '../helpers/cli.ts';
import { seedConnection, type SeededConnection } from '../helpers/fixtures.ts';
import {
  isolatedDb,
  openStack,
  uniqueTaskQueue,
  withWorker,
  type IsolatedDb,
  type TestStack,
} from '../helpers/stack.ts';

describe('the listing-sync CLI on the local stack', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let iso: IsolatedDb;
  const tq = uniqueTaskQueue('cli');
  let ok: SeededConnection;
  let denied: SeededConnection;

  before(async () => {
    stack = await openStack();
    iso = await isolatedDb(stack, 'cli');
    ok = await seedConnection(iso.db);
    denied = await seedConnection(iso.db, { connection: { external_id: 'wrong-external-id' } });
  });
  after(async () => {
    await scheduleHandle(stack.client)
      .delete()
      .catch(() => undefined);
    await iso?.close();
    await stack?.close();
  });

  const cli = (...args: string[]) => runCli(args, { ...process.env, TEMPORAL_TASK_QUEUE: tq, MONGODB_URI: iso.uri });
  const json = cliJson;

  it('prints help for every command and rejects bad usage with exit code 2', async () => {
    const help = await cli('--help');
    assert.equal(help.code, 0);
    for (const command of [
      'sync <connectionId>',
      'status <connectionId>',
      'sync-all',
      'schedule ensure',
      'connections list',
    ]) {
      assert.ok(help.out.includes(command), `help lists ${command}`);
    }
    for (const command of ['sync', 'status', 'sync-all', 'schedule', 'connections']) {
      const run = await cli(command, '--help');
      assert.equal(run.code, 0, `${command} --help`);
      assert.match(run.out, new RegExp(`Usage: listing-sync ${command}`));
    }
    assert.equal((await cli('bogus')).code, 2);
    assert.equal((await cli('sync')).code, 2);
    assert.equal((await cli('schedule', 'explode')).code, 2);
    assert.equal((await cli('sync', 'x', '--no-such-flag')).code, 2);
  });

  it("onboarding-link prints the quick-create link with the connection's external ID", async () => {
    const withVendor = (...args: string[]) =>
      runCli(args, {
        ...process.env,
        MONGODB_URI: iso.uri,
        SELLER_TEMPLATE_URL: 'https://listing-sync-templates.s3.amazonaws.com/seller-onboarding.yaml',
        VENDOR_AWS_PRINCIPAL: '111122223333',
      });
    const run = await withVendor('onboarding-link', ok.connectionId, '--json');
    assert.equal(run.code, 0, run.out);
    const link = new URL(json(run).link as string);
    const params = new URLSearchParams(link.hash.split('?')[1]);
    assert.equal(params.get('param_ExternalId'), ok.externalId);
    assert.equal(params.get('param_VendorPrincipal'), '111122223333');
    assert.equal(params.get('templateURL'), 'https://listing-sync-templates.s3.amazonaws.com/seller-onboarding.yaml');
    assert.equal((await withVendor('onboarding-link', 'no-such-connection')).code, 3);
    const unconfigured = await cli('onboarding-link', ok.connectionId);
    assert.equal(unconfigured.code, 2);
    assert.match(unconfigured.out, /SELLER_TEMPLATE_URL/);
  });

  it('sync, status, connections list, schedule and sync-all against a running worker', async () => {
    await withWorker(
      tq,
      async () => {
        const synced = await cli('sync', ok.connectionId, '--wait', '--json');
        assert.equal(synced.code, 0, synced.out);
        assert.equal(json(synced).summary.imported, 3);
        assert.equal(json(synced).workflowId, `sync-connection-${ok.connectionId}`);
        assert.match(json(synced).link, /^http:\/\/.+\/namespaces\/default\/workflows\/sync-connection-/);

        const started = await cli('sync', ok.connectionId, '--json');
        assert.equal(started.code, 0, started.out);
        assert.equal(json(started).workflowId, `sync-connection-${ok.connectionId}`);
        await stack.client.workflow.getHandle(json(started).workflowId, json(started).runId).result();

        const failed = await cli('sync', denied.connectionId, '--wait');
        assert.equal(failed.code, 1);
        assert.match(failed.out, /AssumeRoleDenied: AWS denied AssumeRole/);

        const status = await cli('status', ok.connectionId);
        assert.equal(status.code, 0);
        assert.match(status.out, /last sync: {2}succeeded/);
        assert.match(status.out, /"total_aws":3,"matched":3/);
        assert.match(status.out, /COMPLETED/);
        const deniedStatus = await cli('status', denied.connectionId, '--json');
        assert.equal(deniedStatus.code, 1);
        assert.equal(json(deniedStatus).sync.error.type, 'AssumeRoleDenied');
        assert.equal((await cli('status', 'no-such-connection')).code, 3);

        const all = json(await cli('connections', 'list', '--json'));
        assert.deepEqual(
          all.map((c: { connectionId: string }) => c.connectionId).sort(),
          [ok.connectionId, denied.connectionId].sort(),
        );
        const failedOnly = json(await cli('connections', 'list', '--failed', '--json'));
        assert.deepEqual(
          failedOnly.map((c: { connectionId: string }) => c.connectionId),
          [denied.connectionId],
        );

        await scheduleHandle(stack.client)
          .delete()
          .catch(() => undefined);
        assert.equal(json(await cli('schedule', 'ensure', '--json')).outcome, 'created');
        assert.equal(json(await cli('schedule', 'ensure', '--json')).outcome, 'unchanged');
        assert.equal(json(await cli('schedule', 'ensure', '--every', '12h', '--json')).outcome, 'updated');
        const described = json(await cli('schedule', 'describe', '--json'));
        assert.equal(described.everyMs, 12 * 3_600_000);
        assert.equal(described.overlap, 'SKIP');
        assert.equal((await cli('schedule', 'pause')).code, 0);
        assert.equal(json(await cli('schedule', 'describe', '--json')).paused, true);
        assert.equal((await cli('schedule', 'unpause')).code, 0);
        assert.equal(json(await cli('schedule', 'describe', '--json')).paused, false);
        assert.equal((await cli('schedule', 'trigger')).code, 0);

        const startedAll = await cli('sync-all', '--json');
        assert.equal(startedAll.code, 0, startedAll.out);
        assert.match(json(startedAll).workflowId, /^sync-all-\d{4}-\d\d-\d\dT/);
        await stack.client.workflow.getHandle(json(startedAll).workflowId).result();

        const syncAll = await cli('sync-all', '--wait', '--json');
        assert.equal(syncAll.code, 1, 'a failed connection makes sync-all exit 1');
        assert.deepEqual(json(syncAll).result.totals.connections.failed, 1);
        assert.ok(
          json(syncAll).result.totals.connections.succeeded + json(syncAll).result.totals.connections.skipped >= 1,
        );
      },
      { env: { MONGODB_URI: iso.uri } },
    );
  });
});
