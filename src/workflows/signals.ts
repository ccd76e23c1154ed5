import { defineSignal } from '@temporalio/workflow';
import type { ConnectionReport, RefreshRequest } from '../shared/types.ts';

/** Asks a running SyncConnection to tell this SyncAll chain (by workflow id) how it ended. */
export const reportToSignal = defineSignal<[chainWorkflowId: string]>('reportTo');

/** A SyncConnection's outcome, sent to the SyncAll chain that handed it over across a continue-as-new. */
export const connectionSyncedSignal = defineSignal<[ConnectionReport]>('connectionSynced');

/**
 * A Catalog event for the connection's account. Before the run lists, the run already covers it; once listing has
 * begun, the run syncs once more when it ends (any number of these during one run make one extra run).
 */
export const refreshSignal = defineSignal<[RefreshRequest]>('refresh');
