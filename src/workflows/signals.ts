import { defineSignal } from '@temporalio/workflow';
import type { ConnectionReport } from '../shared/types.ts';

/** Asks a running SyncConnection to tell this SyncAll chain (by workflow id) how it ended. */
export const reportToSignal = defineSignal<[chainWorkflowId: string]>('reportTo');

/** A SyncConnection's outcome, sent to the SyncAll chain that handed it over across a continue-as-new. */
export const connectionSyncedSignal = defineSignal<[ConnectionReport]>('connectionSynced');
