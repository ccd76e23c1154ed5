import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { RunRef, SyncError } from '../../src/shared/types.ts';
import { refreshSignal } from '../../src/workflows/signals.ts';
import { progressQuery, type syncConnection } from '../../src/workflows/index.ts';
import { eventually } from '../helpers/wait.ts';
import { gate, listed, role, stub, summary, withStubWorker } from './stub-worker.ts';

const refresh = (i: number) => ({ eventId: `event-${i}`, detailType: 'Change Set Succeeded', account: '123456789012' });

// The real syncConnection on the dev server, its activities stubbed: what the workflow decides, in seconds.
describe('syncConnection with stub activities', function () {
  this.timeout(60_000);

  it('assumes the role, lists every type, reconciles, and returns the summary', async () => {
    const calls: string[] = [];
    await withStubWorker(
      'wf-flow',
      {
        assumeRole: stub((ref: RunRef) => (calls.push('assumeRole'), role(ref.connectionId))),
        listFirstPages: stub(() => (calls.push('listFirstPages'), listed(3))),
        reconcile: stub(() => (calls.push('reconcile'), summary(3))),
        recordSyncFailure: stub(() => void calls.push('recordSyncFailure')),
      },
      async ({ client, taskQueue }) => {
        const result = await client.workflow.execute<typeof syncConnection>('syncConnection', {
          taskQueue,
          workflowId: `wf-flow-${taskQueue}`,
          args: [{ connectionId: 'c1' }],
        });
        assert.equal(result.imported, 3);
        assert.deepEqual(calls, ['assumeRole', 'listFirstPages', 'reconcile']);
      },
    );
  });

  it('ends failed, named for the type that could not be listed, after reconciling the others', async () => {
    const failure: SyncError = { type: 'CatalogAccessDenied', message: 'The role may not list SaaSProduct' };
    let recorded = 0;
    await withStubWorker(
      'wf-failed-type',
      {
        assumeRole: stub((ref: RunRef) => role(ref.connectionId)),
        listFirstPages: stub(() =>
          listed(0, { SaaSProduct: { entityType: 'SaaSProduct', status: 'failed', error: failure } }),
        ),
        reconcile: stub(() =>
          summary(0, { failed_types: [{ entity_type: 'SaaSProduct', type: failure.type, message: failure.message }] }),
        ),
        recordSyncFailure: stub(() => void (recorded += 1)),
      },
      async ({ client, taskQueue }) => {
        const err = await client.workflow
          .execute<typeof syncConnection>('syncConnection', {
            taskQueue,
            workflowId: `wf-failed-type-${taskQueue}`,
            args: [{ connectionId: 'c1' }],
          })
          .then(
            () => assert.fail('the sync succeeded'),
            (e: unknown) => e,
          );
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
        assert.equal(err.cause.type, 'CatalogAccessDenied');
        assert.match(err.cause.message, /SaaSProduct/);
        // The reconcile recorded the partial outcome on connections.sync; nothing records it twice.
        assert.equal(recorded, 0);
      },
    );
  });

  it('makes one extra run for a burst of refreshes during listing, after the burst settles', async () => {
    const listing = gate();
    let assumed = 0;
    let listings = 0;
    await withStubWorker(
      'wf-settle',
      {
        assumeRole: stub((ref: RunRef) => ((assumed += 1), role(ref.connectionId))),
        listFirstPages: async () => {
          listings += 1;
          if (listings === 1) await listing.wait; // the first run lists until the test has sent its burst
          return listed(1);
        },
        reconcile: stub(() => summary(1)),
        recordSyncFailure: stub(() => undefined),
      },
      async ({ client, taskQueue }) => {
        const workflowId = `wf-settle-${taskQueue}`;
        const handle = await client.workflow.start<typeof syncConnection>('syncConnection', {
          taskQueue,
          workflowId,
          args: [{ connectionId: 'c1', trigger: { reason: 'Refresh after Change Set Succeeded', eventId: 'event-0' } }],
        });
        await eventually('the first run listing', () => listings === 1);
        for (let i = 1; i <= 10; i += 1) await handle.signal(refreshSignal, refresh(i));
        listing.open();
        // The extra run waits for the refreshes to stop; these arrive while it settles and fold into it.
        await eventually('the extra run', async () => (await handle.describe()).runId !== handle.firstExecutionRunId);
        for (let i = 11; i <= 13; i += 1) {
          await handle.signal(refreshSignal, refresh(i));
          await delay(500);
        }
        const result = await client.workflow.getHandle<typeof syncConnection>(workflowId).result();
        assert.equal(result.trigger, 'Refresh after Change Set Succeeded');
        assert.equal(assumed, 2, 'one run for the burst, plus the first');
        assert.equal(listings, 2);
      },
    );
  });

  it('makes the extra run for a refresh signal sent without a payload, named as such', async () => {
    const listing = gate();
    let assumed = 0;
    let patientCalls = 0;
    const unavailable: SyncError = { type: 'CatalogUnavailable', message: 'ListEntities SaaSProduct failed: 503' };
    await withStubWorker(
      'wf-bare-refresh',
      {
        assumeRole: stub((ref: RunRef) => ((assumed += 1), role(ref.connectionId))),
        // The first run lists SaaSProduct on the patient path (its workflow task done), where the signal reaches it.
        listFirstPages: stub(() =>
          assumed === 1
            ? listed(0, { SaaSProduct: { entityType: 'SaaSProduct', status: 'interrupted', error: unavailable } })
            : listed(1),
        ),
        listEntities: async () => {
          patientCalls += 1;
          await listing.wait;
          return listed(1)[0]!;
        },
        reconcile: stub(() => summary(1)),
        recordSyncFailure: stub(() => undefined),
      },
      async ({ client, taskQueue }) => {
        const workflowId = `wf-bare-refresh-${taskQueue}`;
        const handle = await client.workflow.start<typeof syncConnection>('syncConnection', {
          taskQueue,
          workflowId,
          args: [{ connectionId: 'c1' }],
        });
        await eventually('the patient listing', () => patientCalls === 1);
        // As `temporal workflow signal --name refresh` sends it, with no input.
        await handle.signal('refresh');
        listing.open();
        const result = await client.workflow.getHandle<typeof syncConnection>(workflowId).result();
        assert.equal(assumed, 2, 'the first run, then one extra run');
        assert.equal(result.trigger, 'Refresh after refresh signal');
      },
    );
  });

  it('makes the extra run a refresh asked for even when the run ends failed, and that run reports the outcome', async () => {
    const listing = gate();
    let fixed = false;
    let patientCalls = 0;
    let assumed = 0;
    const unavailable: SyncError = { type: 'CatalogUnavailable', message: 'ListEntities SaaSProduct failed: 503' };
    await withStubWorker(
      'wf-fixed',
      {
        assumeRole: stub((ref: RunRef) => ((assumed += 1), role(ref.connectionId))),
        // Until the seller fixes the role, SaaSProduct goes to the patient path, where AWS finally denies it.
        listFirstPages: stub(() =>
          fixed
            ? listed(2)
            : listed(0, { SaaSProduct: { entityType: 'SaaSProduct', status: 'interrupted', error: unavailable } }),
        ),
        listEntities: async () => {
          patientCalls += 1;
          await listing.wait;
          throw ApplicationFailure.create({ type: 'CatalogAccessDenied', nonRetryable: true, message: 'denied' });
        },
        reconcile: stub((input: { lists: Array<{ status: string; entityType: string; error?: SyncError }> }) => {
          const failed = input.lists.flatMap((l) =>
            l.status === 'failed' && l.error ? [{ entity_type: 'SaaSProduct' as const, ...l.error }] : [],
          );
          return failed.length > 0 ? summary(0, { failed_types: failed }) : summary(2);
        }),
        recordSyncFailure: stub(() => undefined),
      },
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start<typeof syncConnection>('syncConnection', {
          taskQueue,
          workflowId: `wf-fixed-${taskQueue}`,
          args: [{ connectionId: 'c1' }],
        });
        await eventually('the patient listing', () => patientCalls === 1);
        // The seller fixes the role and the app connects again (a refresh), while the run still lists.
        fixed = true;
        await handle.signal(refreshSignal, { eventId: 'connect-1', detailType: 'Connect', account: '123456789012' });
        listing.open();
        const result = await client.workflow.getHandle<typeof syncConnection>(handle.workflowId).result();
        assert.equal(result.imported, 2);
        assert.equal(result.trigger, 'Refresh after Connect');
        assert.equal(assumed, 2, 'the failed run, then one extra run');
      },
    );
  });

  it("records a cancel as the run's failure and ends cancelled", async () => {
    const errors: SyncError[] = [];
    await withStubWorker(
      'wf-cancel',
      {
        assumeRole: stub((ref: RunRef) => role(ref.connectionId)),
        // Lists until cancelled: the workflow's cancel reaches the local activity through its context.
        listFirstPages: async () => {
          await Context.current().cancelled;
          return listed(0);
        },
        reconcile: stub(() => summary(0)),
        recordSyncFailure: stub((input: RunRef & { error: SyncError }) => void errors.push(input.error)),
      },
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start<typeof syncConnection>('syncConnection', {
          taskQueue,
          workflowId: `wf-cancel-${taskQueue}`,
          args: [{ connectionId: 'c1' }],
          // A workflow task stays open while a local activity runs, until 80 % of this timeout (the default 10 s
          // would hold the query and then the cancel for 8 s each); a shorter one only makes the test wait less.
          workflowTaskTimeout: '2 seconds',
        });
        await eventually('listing', async () => (await handle.query(progressQuery)).phase === 'listing');
        await handle.cancel();
        const err = await handle.result().then(
          () => assert.fail('the cancelled sync completed'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
        assert.deepEqual(
          errors.map((e) => e.type),
          ['Cancelled'],
        );
      },
    );
  });
});

// A start from any caller (HTTP API, CLI, another SDK) with input the workflow cannot take.
describe('malformed starts', function () {
  this.timeout(60_000);

  it('fail at once, named InvalidInput, having done nothing', async () => {
    let called = 0;
    const count = stub(() => {
      called += 1;
      throw new Error('no activity may run');
    });
    await withStubWorker(
      'wf-invalid',
      { assumeRole: count, listFirstPages: count, listConnectionsPage: count, recordSyncRun: count },
      async ({ client, taskQueue }) => {
        const starts: Array<[string, unknown[]]> = [
          ['syncConnection', [{}]],
          ['syncConnection', [{ connectionId: 42 }]],
          ['syncConnection', []],
          ['previewConnectionSync', [{ connection_id: 'c1' }]],
          ['syncAll', [{ batchSize: 'lots' }]],
          // Would have passed the start and failed the chain's last workflow task, again and again.
          ['syncAll', [{ reportDeadline: 'soon', totals: {} }]],
        ];
        for (const [i, [type, args]] of starts.entries()) {
          const handle = await client.workflow.start(type, {
            taskQueue,
            workflowId: `wf-invalid-${i}-${taskQueue}`,
            args,
          });
          const err = await handle.result().then(
            () => assert.fail(`${type} took ${JSON.stringify(args)}`),
            (e: unknown) => e,
          );
          assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
          assert.equal(err.cause.type, 'InvalidInput', err.cause.message);
          assert.match(err.cause.message, new RegExp(`^${type} was started with input it cannot take: `));
          // Started, its one workflow task, failed: no retry loop.
          const { historyLength } = await handle.describe();
          assert.ok(historyLength <= 5, `${type}: ${historyLength} events`);
        }
        assert.equal(called, 0);
      },
    );
  });
});
