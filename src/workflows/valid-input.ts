import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../shared/failures.ts';

/**
 * Fails the workflow at once, named InvalidInput, when its input has problems: a malformed start from any caller
 * (HTTP API, CLI, another SDK) ends in its first workflow task with a message that says what is wrong, having done
 * nothing. Runs before any command, so a well-formed input changes nothing in the history.
 */
export function rejectInvalidInput(workflowType: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw ApplicationFailure.create({
    type: FailureType.InvalidInput,
    nonRetryable: true,
    message: `${workflowType} was started with input it cannot take: ${problems.join('; ')}`,
  });
}
