import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/**
 * How a variant of today's syncAll differs from it: one more timer before the run's first step. `unpatched` is the
 * mistake the replay corpus and the deploy drill must catch (a new command every old history lacks); `patched` is
 * the same change made the safe way.
 */
export type SyncAllEdit = 'unpatched' | 'patched';

const FIRST_STEP = '  if (run === 1) {\n    await store.recordSyncRun(';

/** Today's workflow code with syncAll edited, bundled; the code is written to `out` when given (for a worker process). */
export async function syncAllVariant(edit: SyncAllEdit, out?: string): Promise<string> {
  const dir = join(ROOT, '.data', 'variants', `${edit}-${process.pid}-${Date.now()}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  const file = join(dir, 'src', 'workflows', 'sync-all.ts');
  const source = readFileSync(file, 'utf8');
  if (!source.includes(FIRST_STEP))
    throw new Error(`sync-all.ts no longer has "${FIRST_STEP.trim()}": update the variant`);
  const timer =
    edit === 'patched'
      ? `  if (variantPatched('drill-extra-timer')) await variantSleep(1);\n`
      : `  await variantSleep(1);\n`;
  writeFileSync(
    file,
    `import { patched as variantPatched, sleep as variantSleep } from '@temporalio/workflow';\n` +
      source.replace(FIRST_STEP, timer + FIRST_STEP),
  );
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(dir, 'src', 'workflows', 'index.ts'),
      logger: quiet,
    });
    if (out) writeFileSync(out, code);
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
