import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface WorkerProcess {
  pid: number;
  /** The worker's peak resident memory so far (VmHWM), in MB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/**
 * A worker process of the code in `tree` (this checkout, or a baseline's worktree), loading `bundle`, as production
 * runs it. Both sides of a comparison run the same way, whatever their code's in-process API looks like.
 */
export async function startWorkerProcess(
  tree: string,
  bundle: string,
  env: NodeJS.ProcessEnv,
  polling: () => Promise<boolean>,
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=256', '--import', 'tsx', join(tree, 'src/worker/main.ts')],
    {
      cwd: tree,
      env: {
        ...env,
        WORKFLOW_BUNDLE_PATH: bundle,
        LOG_LEVEL: 'WARN',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000)));
  // A WARN-level worker logs nothing at start: it is up once the server sees its pollers.
  for (let i = 0; i < 300 && !(await polling()); i += 1) {
    if (child.exitCode !== null) throw new Error(`the worker of ${tree} exited: ${out}`);
    await delay(100);
  }
  const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return {
    pid: child.pid!,
    peakRssMb: () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(status())?.[1] ?? 0) / 1024),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, delay(15_000)]);
      child.kill('SIGKILL');
    },
  };
}

/**
 * A worktree of `ref` under .data/baseline (reused on later runs), sharing this checkout's node_modules, with its
 * workflow code bundled by its own bundling script.
 */
export function baselineTree(root: string, ref: string): { tree: string; bundle: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--short=7', `${ref}^{commit}`], { cwd: root })
    .toString()
    .trim();
  const tree = join(root, '.data', 'baseline', commit);
  if (!existsSync(join(tree, 'package.json'))) {
    mkdirSync(join(root, '.data', 'baseline'), { recursive: true });
    execFileSync('git', ['worktree', 'add', '--force', '--detach', tree, commit], { cwd: root, stdio: 'ignore' });
  }
  if (!existsSync(join(tree, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
  const bundle = join(tree, '.bench-workflow-bundle.js');
  if (!existsSync(bundle))
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', bundle], {
      cwd: tree,
      stdio: 'ignore',
    });
  return { tree, bundle, commit };
}
