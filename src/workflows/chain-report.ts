// A sync's report to a SyncAll chain: a chain that continued as new while this sync ran asks (reportTo signal) for
// the outcome by signal instead of by result, and a refresh's extra run carries the request on. Deterministic.
import { getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import type { ConnectionReport } from '../shared/types.ts';
import { connectionSyncedSignal, reportToSignal } from './signals.ts';

export class ChainReport {
  private chain: string | null;

  /** Registers the signal handler: construct before the run's first await. */
  constructor(inherited: string | null | undefined) {
    this.chain = inherited ?? null;
    setHandler(reportToSignal, (chainWorkflowId) => {
      this.chain = chainWorkflowId;
    });
  }

  /** The chain an extra run reports to instead of this one (it counts the connection once, from the last run). */
  passedOn(): string | null {
    return this.chain;
  }

  /**
   * Tells the chain, if there is one, how this sync ended; a run followed by an extra one leaves that to the extra
   * run. A chain that is gone is not the sync's failure.
   */
  async send(report: ConnectionReport, extraRunFollows: boolean): Promise<void> {
    if (!this.chain || extraRunFollows) return;
    try {
      await getExternalWorkflowHandle(this.chain).signal(connectionSyncedSignal, report);
    } catch (err) {
      log.warn('Could not report the outcome to the SyncAll chain', {
        connectionId: report.connectionId,
        chain: this.chain,
        error: err,
      });
    }
  }
}
