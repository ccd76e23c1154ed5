import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { printSlowest, type TestDuration } from '../scripts/test-lanes.ts';
import { workflowTaskFailures } from './helpers/workflow-health.ts';

// Expected failures (denied roles, broken connections) are logged by the SDK at WARN with stack traces;
// the tests assert on them, so only errors reach the console.
Runtime.install({ logger: new DefaultLogger('ERROR') });

// Every test's duration, for the slowest ten printed at the end: where a developer's time goes.
const durations: TestDuration[] = [];
const DURATIONS_FILE = process.env.TEST_DURATIONS_FILE;

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    const test = this.currentTest;
    if (test?.duration === undefined) return;
    const entry = { title: test.fullTitle(), ms: test.duration };
    // In the full suite's lanes (scripts/test-lanes.ts) the runner prints the slowest of all lanes together.
    if (DURATIONS_FILE) appendFileSync(DURATIONS_FILE, `${JSON.stringify(entry)}\n`);
    else durations.push(entry);
  },

  /**
   * After the whole run: no SyncAll run on the test stack failed a workflow task. A chain that fails its tasks
   * (nondeterminism, an unhandled rejection) may still end, by retrying or by a test cancelling it, so a test that
   * only checks its result would not notice; this checks every chain every test started, whichever test it was.
   */
  async afterAll(this: Mocha.Context) {
    printSlowest(durations, 'slowest tests');
    if (!process.env.TEMPORAL_ADDRESS) return; // replay and unit tests alone: no server
    this.timeout(120_000);
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
      assert.deepEqual(await workflowTaskFailures(client, `WorkflowType = 'syncAll'`), []);
    } finally {
      await connection.close();
    }
  },
};
