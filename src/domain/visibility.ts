// AWS visibilities under which buyers can see (some form of) the listing.
const LIVE_VISIBILITIES = new Set(['Public', 'Limited', 'Restricted']);

export type ImportStatus = 'published' | 'complete';

export function isLive(visibility: string): boolean {
  return LIVE_VISIBILITIES.has(visibility);
}

/** Live products arrive published; anything else (Draft, Unavailable, unknown) is work in progress. */
export function importStatusFor(visibility: string): ImportStatus {
  return isLive(visibility) ? 'published' : 'complete';
}
