// An EventBridge event from the AWS Marketplace Catalog, as AWS documents it (source aws.marketplacecatalog, the
// seller's account, a detail type such as "Change Set Succeeded"). Everything else on the queue is rejected with a
// reason, so a person reading the log line (or the dead-letter queue) knows why it was not used.

export const CATALOG_EVENT_SOURCE = 'aws.marketplacecatalog';

const ACCOUNT_ID = /^\d{12}$/;
const MAX_DETAIL_TYPE = 128;
const MAX_EVENT_ID = 128;

export interface CatalogEvent {
  id: string;
  detailType: string;
  /** The AWS account the event is about: the seller's account, also when forwarded to another account's bus. */
  account: string;
  time: string | null;
}

export type CatalogEventParse = { ok: true; event: CatalogEvent } | { ok: false; reason: string };

export function parseCatalogEvent(body: string | undefined): CatalogEventParse {
  if (!body) return { ok: false, reason: 'the message body is empty' };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'the message body is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'the message body is not a JSON object (an EventBridge event)' };
  }
  const event = value as Record<string, unknown>;
  if (event.source !== CATALOG_EVENT_SOURCE) {
    return {
      ok: false,
      reason: `source is ${JSON.stringify(event.source ?? null)}, expected "${CATALOG_EVENT_SOURCE}" (is the rule's event pattern right?)`,
    };
  }
  const detailType = event['detail-type'];
  if (typeof detailType !== 'string' || detailType.trim() === '' || detailType.length > MAX_DETAIL_TYPE) {
    return { ok: false, reason: 'detail-type is missing or not a short string' };
  }
  const account = event.account;
  if (typeof account !== 'string' || !ACCOUNT_ID.test(account)) {
    return { ok: false, reason: `account ${JSON.stringify(account ?? null)} is not a 12-digit AWS account id` };
  }
  const id = typeof event.id === 'string' && event.id.length <= MAX_EVENT_ID ? event.id : '';
  if (!id) return { ok: false, reason: 'id is missing or not a short string' };
  const time = typeof event.time === 'string' && !Number.isNaN(Date.parse(event.time)) ? event.time : null;
  return { ok: true, event: { id, detailType: detailType.trim(), account, time } };
}

/** What the refresh run is called in the Web UI and in its summary. */
export function refreshReason(detailType: string): string {
  return `Refresh after ${detailType}`;
}

/** An event as EventBridge delivers it, for `events send-test` and the tests. */
export function testCatalogEvent(
  account: string,
  opts: { id: string; time: Date; detailType?: string },
): Record<string, unknown> {
  return {
    version: '0',
    id: opts.id,
    'detail-type': opts.detailType ?? 'Change Set Succeeded',
    source: CATALOG_EVENT_SOURCE,
    account,
    time: opts.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:aws-marketplace:us-east-1:${account}:AWSMarketplace/ChangeSet/listing-sync-test`],
    detail: {
      requestId: opts.id,
      Catalog: 'AWSMarketplace',
      ChangeSetId: 'listing-sync-test',
      ChangeSetName: 'listing-sync test event',
    },
  };
}
