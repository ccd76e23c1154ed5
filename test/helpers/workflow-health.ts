import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

// A CommonJS module: its namespaces are properties of the default export under Node's ESM loader.
const { EventType, WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

/**
 * Every WorkflowTaskFailed event in the runs the visibility query finds, named. A failed workflow task is how a
 * nondeterministic deploy or an unhandled rejection strands a run: the task is retried, and fails, for ever.
 */
export async function workflowTaskFailures(client: Client, query: string): Promise<string[]> {
  const problems: string[] = [];
  for await (const run of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    for (const event of history.events ?? []) {
      if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) continue;
      const attrs = event.workflowTaskFailedEventAttributes;
      const cause = WorkflowTaskFailedCause[attrs?.cause ?? 0] ?? String(attrs?.cause);
      problems.push(
        `${run.type} ${run.workflowId} run ${run.runId} event ${String(event.eventId)}: ${cause}: ${attrs?.failure?.message ?? ''}`,
      );
    }
  }
  return problems;
}

/** Every run of a workflow id (a SyncAll chain's runs share it). */
export const runsOf = (workflowId: string) => `WorkflowId = '${workflowId}'`;
