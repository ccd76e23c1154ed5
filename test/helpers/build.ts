import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** What `npm run build` makes: the compiled worker, and the workflow bundle it loads through WORKFLOW_BUNDLE_PATH. */
export interface Build {
  worker: string;
  workflowBundle: string;
}

const build: Build = {
  worker: join(root, 'dist', 'worker', 'main.js'),
  workflowBundle: join(root, 'dist', 'workflow-bundle.js'),
};

function newestUnder(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Both outputs exist and are at least as new as every file under src/. */
function isCurrent(): boolean {
  const outputs = [build.worker, build.workflowBundle].map((file) => statSync(file, { throwIfNoEntry: false }));
  if (outputs.some((stat) => !stat)) return false;
  return Math.min(...outputs.map((stat) => stat!.mtimeMs)) >= newestUnder(join(root, 'src'));
}

let outcome: Build | Error | undefined;

/**
 * The compiled worker, built first (`npm run build`, synchronously) when dist/ is missing or older than src/.
 * scripts/test.sh builds before every run but the quick one (`npm test`, which runs no worker-process test), so there
 * this only checks; the outcome is kept for the process.
 */
export function ensureBuilt(): Build {
  if (!outcome) {
    try {
      if (!isCurrent()) {
        execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
        if (!isCurrent()) throw new Error('dist/ is still older than src/ after the build (is src/ being edited?)');
      }
      outcome = build;
    } catch (err) {
      // A failed build's own message repeats its stderr: report the exit status and the output once.
      const { status, stdout, stderr } = err as { status?: number | null; stdout?: string; stderr?: string };
      const output = [stdout, stderr].filter(Boolean).join('\n').trim();
      const why = status === undefined ? (err as Error).message : `\`npm run build\` exited with ${status}`;
      outcome = new Error(
        `The worker-process tests run the compiled worker (dist/): ${why}${output ? `\n${output}` : ''}`,
      );
    }
  }
  if (outcome instanceof Error) throw outcome;
  return outcome;
}
