// A sync's refresh bookkeeping: Catalog events arrive as `refresh` signals. One that arrives before the run lists
// is covered by this run; one that arrives later may describe a change the listing missed, so it asks for an extra
// run, which first waits for the burst to settle. Any number of them during one run make one extra run.
import { condition, log, setHandler, uuid4 } from '@temporalio/workflow';
import type { RefreshRequest } from '../shared/types.ts';
import { refreshRequestProblems } from '../shared/workflow-inputs.ts';
import { refreshSignal } from './signals.ts';

/** An extra run waits until refreshes stop for this long, so a burst of events makes one run... */
const REFRESH_QUIET_MS = 2_000;
/** ...but never longer than this: a steady stream of events still gets synced. */
const REFRESH_SETTLE_MAX_MS = 30_000;

export class Refreshes {
  private listing = false;
  private extra: RefreshRequest | null = null;
  private heard = false;

  /** Registers the signal handler: construct before the run's first await, so no early signal is missed. */
  constructor() {
    setHandler(refreshSignal, (payload: unknown) => {
      this.heard = true;
      if (this.listing) this.extra ??= asRefreshRequest(payload);
    });
  }

  /** From now on a refresh asks for an extra run. */
  listingStarted(): void {
    this.listing = true;
  }

  /** The refresh that asked for an extra run, if one has. */
  extraRun(): RefreshRequest | null {
    return this.extra;
  }

  /** Waits until no refresh has arrived for REFRESH_QUIET_MS (at most REFRESH_SETTLE_MAX_MS). */
  async settle(): Promise<void> {
    const deadline = Date.now() + REFRESH_SETTLE_MAX_MS;
    for (;;) {
      this.heard = false;
      const left = deadline - Date.now();
      if (left <= 0 || !(await condition(() => this.heard, Math.min(REFRESH_QUIET_MS, left)))) return;
    }
  }
}

/**
 * A signal from any caller (the temporal CLI, another SDK) may carry no payload or a malformed one. Its intent is
 * still a refresh, so it gets one, named as such, and the log says what was wrong with it; used as it came, it would
 * leave an extra run without a trigger and a SyncAll chain without its report.
 */
function asRefreshRequest(payload: unknown): RefreshRequest {
  const problems = refreshRequestProblems(payload);
  if (problems.length === 0) return payload as RefreshRequest;
  log.warn('A refresh signal with a malformed payload; refreshing anyway', { problems });
  return { eventId: `refresh-signal-${uuid4()}`, detailType: 'refresh signal', account: '' };
}
