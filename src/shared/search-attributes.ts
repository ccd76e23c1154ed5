import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes the workflows upsert. The stack script registers these on the dev
// server; production namespaces need them created once (docs/runbook.md).
export const CONNECTION_ID = defineSearchAttributeKey('ConnectionId', SearchAttributeType.KEYWORD);
export const TEAM_ID = defineSearchAttributeKey('TeamId', SearchAttributeType.KEYWORD);
export const AWS_ACCOUNT_ID = defineSearchAttributeKey('AwsAccountId', SearchAttributeType.KEYWORD);
export const SYNC_OUTCOME = defineSearchAttributeKey('SyncOutcome', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [CONNECTION_ID, TEAM_ID, AWS_ACCOUNT_ID, SYNC_OUTCOME] as const;
