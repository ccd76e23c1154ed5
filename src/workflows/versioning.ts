import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

/**
 * A workflow's versioning behaviour, given only when a versioned worker runs it. A worker started with
 * TEMPORAL_WORKER_VERSIONING=false (a server without Worker Deployment Versioning) has no deployment version, and
 * the server refuses every workflow task completion that names a behaviour from such a worker.
 */
export function whenVersioned(behavior: VersioningBehavior): () => WorkflowDefinitionOptions {
  // An unversioned worker still reports a build id, but no deployment name.
  return () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {});
}
