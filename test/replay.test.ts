import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/stack.ts';

const dir = new URL('./fixtures/histories/', import.meta.url);

// Histories recorded from real runs (scripts/record-histories.ts). Replaying them against today's workflow
// code fails with a DeterminismViolationError when a change would break runs already in flight.
describe('replay of recorded workflow histories', function () {
  this.timeout(120_000);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has fixtures for both workflows', () => {
    assert.ok(files.some((f) => f.startsWith('sync-connection')));
    assert.ok(files.some((f) => f.startsWith('sync-all')));
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history: unknown = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }
});
