import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromFile, replayAgainst, type ReplayOutcome } from '../src/deploy/replay.ts';
import { workflowBundle } from './helpers/stack.ts';
import { syncAllVariant } from './helpers/workflow-variants.ts';

const corpus = fileURLToPath(new URL('./fixtures/histories/', import.meta.url));
const stranded = fileURLToPath(new URL('./fixtures/stranded/', import.meta.url));
const jsonFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();

async function replayDir(code: string, dir: string, files: string[]): Promise<Map<string, ReplayOutcome['error']>> {
  const inputs = await Promise.all(
    files.map(async (file) => ({ workflowId: file, history: await historyFromFile(`${dir}${file}`) })),
  );
  const outcomes = new Map<string, ReplayOutcome['error']>();
  for await (const outcome of replayAgainst({ code }, inputs)) outcomes.set(outcome.workflowId, outcome.error);
  return outcomes;
}

// The corpus (scripts/record-histories.ts) holds histories recorded by every version since replay fixtures began,
// named `<what>@<version>.json`. It only grows: a run of any of those versions may still be open when this code
// ships, so each one must replay on it. A DeterminismViolationError here is a run a deploy would strand.
describe('replay of recorded workflow histories', function () {
  this.timeout(180_000);
  const files = jsonFiles(corpus);

  it('holds fixtures of every workflow, named by the version that recorded them', () => {
    for (const file of files) assert.match(file, /^[a-z-]+@[\w.+-]+\.json$/, file);
    for (const what of ['sync-connection', 'sync-all', 'preview-connection'])
      assert.ok(
        files.some((f) => f.startsWith(what)),
        `a fixture of ${what}`,
      );
  });

  it(`replays all ${files.length} fixtures deterministically on today's code`, async () => {
    const outcomes = await replayDir((await workflowBundle()).code, corpus, files);
    assert.equal(outcomes.size, files.length);
    const broken = [...outcomes].filter(([, error]) => error).map(([f, error]) => `${f}: ${error!.message}`);
    assert.deepEqual(broken, []);
  });

  // Histories of versions that were deployed over by an incompatible change before versioning: kept to show the
  // check sees real breaks (README: "Runs stranded before versioning"). No open run of these versions can exist.
  it('fails on the histories stranded by the two unpatched changes before versioning', async () => {
    const files = jsonFiles(stranded);
    const outcomes = await replayDir((await workflowBundle()).code, stranded, files);
    for (const file of files) assert.equal(outcomes.get(file)?.kind, 'nondeterminism', file);
  });

  it('fails when syncAll gains a command without a patch, and passes with the same change behind patched()', async () => {
    const syncAllFiles = files.filter((f) => f.startsWith('sync-all'));
    const unpatched = await replayDir(await syncAllVariant('unpatched'), corpus, syncAllFiles);
    for (const file of syncAllFiles) assert.equal(unpatched.get(file)?.kind, 'nondeterminism', file);
    const patched = await replayDir(await syncAllVariant('patched'), corpus, syncAllFiles);
    for (const file of syncAllFiles) assert.equal(patched.get(file), null, file);
  });
});
