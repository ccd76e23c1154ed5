// The full suite in two lanes on one stack. A few scenarios spend minutes waiting by design (a hung AWS endpoint must
// exhaust its retry budget to fail by name) while using almost no CPU; they run in a mocha process of their own beside
// everything else, so the suite's wall time is the rest's, not the sum. Only tests that share nothing mutable with the
// others go in the waiting lane: each uses its own database, task queue and emulator accounts, and no test touches
// the emulator's global state (faults, stats) or a server's life (the crash tests start stacks of their own). The one
// thing a namespace shares across task queues is a Worker Deployment's Current version, which every test worker sets
// to its own build: the waiting lane's workers belong to a deployment of their own, so a main-lane worker of another
// build (the tracing test's) cannot route the waiting lane's SyncAll runs to a build that has no worker there.
import { createReadStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

/** Scenarios that mostly wait; everything else runs in the main lane. */
export const WAITING_LANE = ['test/integration/hostile-aws.test.ts'];

export type RunMocha = (args: string[], opts: { env: NodeJS.ProcessEnv; output?: string }) => Promise<number>;

/**
 * Runs the main lane with its output on the terminal and the waiting lane into a log that is printed once the main
 * lane is done (interleaved spec output would be unreadable), then the ten slowest tests of both. The worst exit wins.
 */
export async function runLanes(runMocha: RunMocha, env: NodeJS.ProcessEnv, dataDir: string): Promise<number> {
  const durations = join(dataDir, 'test-durations.jsonl');
  const waitingLog = join(dataDir, 'logs', 'waiting-lane.log');
  rmSync(durations, { force: true });
  const laneEnv = { ...env, TEST_DURATIONS_FILE: durations };
  const waitingEnv = { ...laneEnv, TEMPORAL_DEPLOYMENT_NAME: 'listing-sync-waiting-lane' };
  const ignore = WAITING_LANE.flatMap((file) => ['--ignore', file]);

  // A lane that cannot even start counts as failed, without waiting for the other to notice.
  const waiting = runMocha(WAITING_LANE, { env: waitingEnv, output: waitingLog }).catch((err: unknown) => {
    console.error(`the waiting lane did not run: ${(err as Error).message}`);
    return 1;
  });
  const main = await runMocha(['test/**/*.test.ts', ...ignore], { env: laneEnv });
  console.log(`\n  waiting lane (${WAITING_LANE.join(', ')}), run beside the rest:`);
  const waited = await waiting;
  await print(waitingLog);
  const all = readDurations(durations);
  printSlowest(all, `slowest tests of both lanes (${all.length} tests)`);
  return Math.max(main, waited);
}

async function print(file: string): Promise<void> {
  if (!existsSync(file)) return;
  const stream = createReadStream(file);
  stream.pipe(process.stdout, { end: false });
  await once(stream, 'close');
}

export interface TestDuration {
  title: string;
  ms: number;
}

function readDurations(file: string): TestDuration[] {
  if (!existsSync(file)) return [];
  // A lane killed mid-write leaves half a line: skip it rather than lose the run's ending.
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TestDuration];
      } catch {
        return [];
      }
    });
}

/** The ten slowest tests under `heading`: where a developer's time goes (also printed by a single mocha run). */
export function printSlowest(durations: TestDuration[], heading: string): void {
  if (durations.length === 0) return;
  console.log(`\n  ${heading}:`);
  for (const t of [...durations].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
    console.log(`    ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.title}`);
  }
}
