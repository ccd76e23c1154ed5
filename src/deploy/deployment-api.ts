import type { WorkflowService } from '@temporalio/client';
import proto from '@temporalio/proto';

// A CommonJS module: its namespaces are properties of the default export under Node's ESM loader.
const { temporal } = proto;
const DrainageStatus = temporal.api.enums.v1.VersionDrainageStatus;
const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;

export interface VersionState {
  buildId: string;
  /** current, ramping, draining, drained or inactive, as the server says. */
  status: string;
  drainage: 'draining' | 'drained' | null;
  createdAt: Date | null;
}

export interface DeploymentState {
  deploymentName: string;
  current: string | null;
  ramping: { buildId: string; percentage: number } | null;
  versions: VersionState[];
}

const lower = (name: string | undefined, prefix: string) => (name ?? 'UNSPECIFIED').replace(prefix, '').toLowerCase();
const date = (t: { seconds?: unknown } | null | undefined) => (t?.seconds ? new Date(Number(t.seconds) * 1000) : null);

/** A Worker Deployment as an operator reads it: which build is Current, which ramps, which still drain. */
export async function describeDeployment(
  service: WorkflowService,
  namespace: string,
  deploymentName: string,
): Promise<DeploymentState> {
  const describe = () => service.describeWorkerDeployment({ namespace, deploymentName });
  // Seen on Server 1.29: NOT_FOUND for under a second just after a routing change (its deployment workflow
  // continuing as new); one retry spares an operator a false "no such deployment".
  const { workerDeploymentInfo: info } = await describe().catch(async (err: unknown) => {
    if ((err as { code?: number }).code !== 5) throw err;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return describe();
  });
  const routing = info?.routingConfig;
  const ramping = routing?.rampingDeploymentVersion?.buildId;
  return {
    deploymentName,
    current: routing?.currentDeploymentVersion?.buildId || null,
    ramping: ramping ? { buildId: ramping, percentage: routing?.rampingVersionPercentage ?? 0 } : null,
    versions: (info?.versionSummaries ?? []).map((v) => {
      const drainage = v.drainageInfo?.status ?? v.drainageStatus;
      return {
        buildId: v.deploymentVersion?.buildId ?? v.version ?? '',
        status: lower(VersionStatus[v.status ?? 0], 'WORKER_DEPLOYMENT_VERSION_STATUS_'),
        drainage:
          drainage === DrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED
            ? 'drained'
            : drainage === DrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING
              ? 'draining'
              : null,
        createdAt: date(v.createTime),
      };
    }),
  };
}

const identity = 'listing-sync deploy';

/** Sends `percentage` of new workflow runs (and AUTO_UPGRADE runs' next tasks) to `buildId`; 0 keeps it ramping idle. */
export async function rampVersion(
  service: WorkflowService,
  namespace: string,
  deploymentName: string,
  buildId: string,
  percentage: number,
): Promise<void> {
  await service.setWorkerDeploymentRampingVersion({ namespace, deploymentName, buildId, percentage, identity });
}

/**
 * Makes `buildId` Current. The server refuses when the new build does not poll every task queue the current one
 * does — a fleet that is not fully up — and that check is kept: an operator promotes only a healthy fleet.
 */
export async function promoteVersion(
  service: WorkflowService,
  namespace: string,
  deploymentName: string,
  buildId: string,
): Promise<void> {
  await service.setWorkerDeploymentCurrentVersion({ namespace, deploymentName, buildId, identity });
}
