import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils.js';

export interface ReplayInput {
  workflowId: string;
  history: History;
}

/** A history saved as JSON (`temporal workflow show --output json`, the replay fixtures). */
export async function historyFromFile(path: string): Promise<History> {
  return historyFromJSON(JSON.parse(await readFile(path, 'utf8')));
}

export interface ReplayOutcome {
  workflowId: string;
  /** null: the history replays on this build. */
  error: { kind: 'nondeterminism' | 'failure'; message: string } | null;
}

/**
 * Replays histories against a workflow bundle, as a worker of that build would after a deploy. A
 * DeterminismViolationError is a run this build would strand; any other replay failure is reported too.
 */
export async function* replayAgainst(
  workflowBundle: ReplayWorkerOptions['workflowBundle'],
  histories: AsyncIterable<ReplayInput> | Iterable<ReplayInput>,
): AsyncGenerator<ReplayOutcome> {
  const results = Worker.runReplayHistories(
    { workflowBundle, replayName: 'listing-sync deploy verify' },
    (async function* () {
      for await (const h of histories) yield h;
    })(),
  );
  for await (const r of results) {
    if (!r.error) yield { workflowId: r.workflowId, error: null };
    else {
      const kind = r.error instanceof DeterminismViolationError ? 'nondeterminism' : 'failure';
      yield { workflowId: r.workflowId, error: { kind, message: r.error.message } };
    }
  }
}
