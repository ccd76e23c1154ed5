import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowService } from '@temporalio/client';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config.ts';

export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

export interface WorkflowCode {
  code: string;
  /** The build id this code runs as: WORKER_BUILD_ID, or the bundle's hash. */
  version: WorkerVersion;
}

/** A bundle's build id: its content's hash, so two workers share a version exactly when their workflow code is the same. */
export function buildIdOf(code: string): string {
  return `bundle-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;
}

/**
 * The workflow code this worker runs: the prebuilt bundle (`npm run build`) when WORKFLOW_BUNDLE_PATH is set,
 * otherwise bundled now, from the source or from dist/ (whichever this module runs from). Either way the code is in hand, which is what the build id is made of.
 */
export async function loadWorkflowCode(
  config: Config,
  plugins: WorkerOptions['plugins'] = [],
  prebuilt?: { code: string },
): Promise<WorkflowCode> {
  const code =
    prebuilt?.code ??
    (config.worker.workflowBundlePath
      ? await readFile(config.worker.workflowBundlePath, 'utf8')
      : (
          await bundleWorkflowCode({
            workflowsPath: fileURLToPath(new URL(`../workflows/index${extname(import.meta.url)}`, import.meta.url)),
            plugins: plugins.filter((p) => 'configureBundler' in p) as never,
          })
        ).code);
  const { name, buildId } = config.temporal.deployment;
  return { code, version: { deploymentName: name, buildId: buildId ?? buildIdOf(code) } };
}

/**
 * The worker's Worker Deployment options. Each workflow declares its own behaviour (PINNED or AUTO_UPGRADE) with
 * setWorkflowOptions; the default here only covers a workflow that forgets to, and pinning is the safe choice.
 */
export function deploymentOptions(config: Config, version: WorkerVersion): Partial<WorkerOptions> {
  if (!config.temporal.deployment.useVersioning) return {};
  return {
    workerDeploymentOptions: { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' },
  };
}

/**
 * Makes `version` the deployment's Current Version, waiting until the server has seen its pollers (it refuses to
 * promote a version no worker has polled for). For the local stack, the demo and the tests; operators promote with
 * `listing-sync deploy promote`, which does not skip the server's check that every task queue is polled.
 */
export async function promoteWhenPolling(
  service: WorkflowService,
  namespace: string,
  version: WorkerVersion,
  opts: { timeoutMs?: number; ignoreMissingTaskQueues?: boolean } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        ignoreMissingTaskQueues: opts.ignoreMissingTaskQueues ?? true,
        identity: 'listing-sync promote-on-start',
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(200);
    }
  }
}
