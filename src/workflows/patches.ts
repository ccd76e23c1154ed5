/**
 * Every patch a workflow carries, by id. SyncAll is AUTO_UPGRADE (a running chain moves to the newest build at its
 * next workflow task), so each change to the commands it issues goes behind `patched(id)` until no chain that
 * started before the change can still be open; then `deprecatePatch(id)`, and one release later the old branch goes.
 * syncConnection and previewConnectionSync are PINNED: their runs finish on the build they started on and need no
 * patches — except while runs started by unversioned workers (before the first versioned release) are still open.
 * docs/deploying.md has the procedure.
 */
export const Patch = {
  /**
   * Added after cd79e9e: a cancelled SyncAll stops starting children and ends as Cancelled at once, instead of
   * failing its workflow task on every attempt with an unhandled rejection while children were running.
   */
  SyncAllCancelCleanly: 'sync-all-cancel-cleanly',
  /**
   * Added after 43cac44: a syncConnection run that ends failed while a refresh (a Catalog event, or the app's
   * connect) asked for an extra run makes that run instead of dropping it, so a fix the seller made meanwhile shows
   * within one sync. Patched because runs of unversioned builds (cd79e9e) may move onto this one.
   */
  ExtraRunAfterFailure: 'extra-run-after-failure',
} as const;
