import assert from 'node:assert/strict';
import {
  refreshRequestProblems,
  syncAllInputProblems,
  syncConnectionInputProblems,
} from '../../src/shared/workflow-inputs.ts';

describe('workflow inputs from any caller', () => {
  it('takes a well-formed syncConnection input, a refresh and a hand-over, and fields it does not know', () => {
    assert.deepEqual(syncConnectionInputProblems({ connectionId: 'c1' }), []);
    assert.deepEqual(
      syncConnectionInputProblems({
        connectionId: 'c1',
        trigger: { reason: 'Refresh after Change Set Succeeded', eventId: 'e1', afterRun: true },
        reportTo: 'sync-all-chain',
      }),
      [],
    );
    assert.deepEqual(syncConnectionInputProblems({ connectionId: 'c1', trigger: null, reportTo: null, v2: 1 }), []);
  });

  it('names each problem of a malformed syncConnection input', () => {
    assert.match(syncConnectionInputProblems(undefined).join(), /must be an object.*missing/);
    assert.match(syncConnectionInputProblems('c1').join(), /must be an object.*"c1"/);
    assert.match(syncConnectionInputProblems({}).join(), /connectionId must be a non-empty string, not missing/);
    assert.match(syncConnectionInputProblems({ connectionId: 42 }).join(), /connectionId .* not 42/);
    assert.match(syncConnectionInputProblems({ connectionId: '  ' }).join(), /connectionId/);
    const both = syncConnectionInputProblems({ connectionId: 'c1', trigger: 'now', reportTo: 7 });
    assert.equal(both.length, 2, both.join());
    assert.deepEqual(
      syncConnectionInputProblems({ connectionId: 'c1', trigger: { reason: 'r', eventId: 'e', afterRun: 'y' } }),
      ['trigger.afterRun must be a boolean'],
    );
  });

  it("checks a preview's connectionId only", () => {
    assert.deepEqual(syncConnectionInputProblems({ connectionId: 'c1', trigger: 'ignored' }, { preview: true }), []);
    assert.equal(syncConnectionInputProblems({ connectionId: null }, { preview: true }).length, 1);
  });

  it("takes the schedule's empty input and SyncAll's own continue-as-new input", () => {
    assert.deepEqual(syncAllInputProblems(undefined), []);
    assert.deepEqual(syncAllInputProblems({}), []);
    assert.deepEqual(
      syncAllInputProblems({
        chainStartedAt: '2026-11-29T00:00:00.000Z',
        cursor: { kind: 'string', value: 'c9' },
        runsInChain: 2,
        concurrency: 50,
        batchSize: 1000,
        awaitingReports: ['c3'],
        reportDeadline: '3 seconds',
        totals: {
          connections: { succeeded: 3, failed: 1, skipped: 0 },
          total_aws: 9,
          matched: 2,
          updated: 1,
          auto_linked: 0,
          imported: 7,
        },
        failures: [{ connection_id: 'c2', type: 'AssumeRoleDenied', message: 'denied' }],
      }),
      [],
    );
    assert.deepEqual(syncAllInputProblems({ cursor: null, failures: [] }), []);
  });

  it('names each problem of a malformed syncAll input', () => {
    assert.match(syncAllInputProblems([1]).join(), /must be an object/);
    const problems = syncAllInputProblems({
      concurrency: 0,
      batchSize: 'lots',
      awaitingReports: 'c1',
      reportDeadline: 5,
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems.join(), /concurrency must be an integer from 1 to 1000, not 0/);
    assert.match(problems.join(), /batchSize .* not "lots"/);
  });

  it("names a malformed deadline and malformed hand-over fields, which the chain's last run would trip on", () => {
    assert.match(syncAllInputProblems({ reportDeadline: 'soon' }).join(), /reportDeadline .* not "soon"/);
    assert.match(syncAllInputProblems({ chainStartedAt: 'yesterday' }).join(), /chainStartedAt must be an ISO date/);
    assert.match(syncAllInputProblems({ cursor: { kind: 'uuid', value: 'x' } }).join(), /cursor must be null or/);
    assert.match(syncAllInputProblems({ totals: {} }).join(), /totals must hold non-negative integers/);
    const negative = { connections: { succeeded: -1, failed: 0, skipped: 0 }, total_aws: 0, matched: 0, updated: 0 };
    assert.match(syncAllInputProblems({ totals: { ...negative, auto_linked: 0, imported: 0 } }).join(), /totals/);
    assert.match(syncAllInputProblems({ failures: [{ connection_id: 'c1' }] }).join(), /failures must be an array/);
  });

  it('names what a refresh payload lacks', () => {
    assert.deepEqual(refreshRequestProblems({ eventId: 'e1', detailType: 'Connect', account: '' }), []);
    assert.match(
      refreshRequestProblems(undefined).join(),
      /must be \{"eventId", "detailType", "account"\}, not missing/,
    );
    assert.deepEqual(refreshRequestProblems({ eventId: 'e1', account: 1 }), [
      'detailType must be a string, not missing',
      'account must be a string, not 1',
    ]);
  });
});
