import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { parseCatalogEvent, refreshReason, testCatalogEvent } from '../../src/domain/catalog-event.ts';
import { onboardingQuickCreateUrl, onboardingStackName } from '../../src/domain/onboarding.ts';
import { queueRegion } from '../../src/events/sqs.ts';

describe('Catalog events (pure)', () => {
  // AWS's documented example of a Change Set Succeeded event.
  const documented = JSON.stringify({
    version: '0',
    id: '01234567-0123-0123-0123-0123456789ab',
    'detail-type': 'Change Set Succeeded',
    source: 'aws.marketplacecatalog',
    account: '123456789012',
    time: '2022-11-01T13:12:22Z',
    region: 'us-east-1',
    resources: ['arn:aws:aws-marketplace:us-east-1:123456789012:AWSMarketplace/ChangeSet/76yesvf8y165pa4f98td2crtg'],
    detail: { Catalog: 'AWSMarketplace', ChangeSetId: '76yesvf8y165pa4f98td2crtg' },
  });

  it("reads AWS's documented event", () => {
    assert.deepEqual(parseCatalogEvent(documented), {
      ok: true,
      event: {
        id: '01234567-0123-0123-0123-0123456789ab',
        detailType: 'Change Set Succeeded',
        account: '123456789012',
        time: '2022-11-01T13:12:22Z',
      },
    });
  });

  it('rejects what is not a Catalog event, saying why', () => {
    const reason = (body: string | undefined) => {
      const parsed = parseCatalogEvent(body);
      assert.equal(parsed.ok, false);
      return parsed.ok ? '' : parsed.reason;
    };
    const event = JSON.parse(documented) as Record<string, unknown>;
    const variant = (patch: Record<string, unknown>) => JSON.stringify({ ...event, ...patch });
    assert.equal(reason(undefined), 'the message body is empty');
    assert.equal(reason('{"source": '), 'the message body is not JSON');
    assert.match(reason('[1,2]'), /not a JSON object/);
    assert.match(reason(variant({ source: 'aws.ec2' })), /^source is "aws.ec2"/);
    assert.match(reason(variant({ account: '12345' })), /not a 12-digit AWS account id/);
    assert.match(reason(variant({ account: 123456789012 })), /not a 12-digit AWS account id/);
    assert.match(reason(variant({ 'detail-type': '' })), /detail-type/);
    assert.match(reason(variant({ 'detail-type': 'x'.repeat(200) })), /detail-type/);
    assert.match(reason(variant({ id: undefined })), /id is missing/);
    // An SNS envelope around the event is not the EventBridge shape either.
    assert.match(reason(JSON.stringify({ Type: 'Notification', Message: documented })), /^source is null/);
  });

  it('keeps a bad time out of the event without rejecting it', () => {
    const parsed = parseCatalogEvent(JSON.stringify({ ...JSON.parse(documented), time: 'yesterday' }));
    assert.ok(parsed.ok && parsed.event.time === null);
  });

  it('names the refresh after the event, and its test event parses', () => {
    assert.equal(refreshReason('Offer Released'), 'Refresh after Offer Released');
    const event = testCatalogEvent('210987654321', { id: 'e-1', time: new Date('2026-11-25T10:00:00.123Z') });
    const parsed = parseCatalogEvent(JSON.stringify(event));
    assert.ok(parsed.ok);
    assert.equal(parsed.event.account, '210987654321');
    assert.equal(parsed.event.time, '2026-11-25T10:00:00Z');
  });
});

describe('onboarding link (pure)', () => {
  it('is a us-east-1 quick-create link with the template, the principal and the external ID', () => {
    const link = onboardingQuickCreateUrl({
      templateUrl: 'https://example-bucket.s3.amazonaws.com/seller-onboarding.yaml',
      vendorPrincipal: '111122223333',
      externalId: 'ext+id=1,2.@:/-',
      connectionId: 'conn_42',
      eventBusArn: 'arn:aws:events:us-east-1:111122223333:event-bus/listing-sync-catalog-events',
    });
    const url = new URL(link);
    assert.equal(url.origin, 'https://us-east-1.console.aws.amazon.com');
    assert.equal(url.searchParams.get('region'), 'us-east-1');
    const [route, query] = url.hash.slice(1).split('?');
    assert.equal(route, '/stacks/quickcreate');
    const params = new URLSearchParams(query);
    assert.equal(params.get('templateURL'), 'https://example-bucket.s3.amazonaws.com/seller-onboarding.yaml');
    assert.equal(params.get('stackName'), 'listing-sync-conn-42');
    assert.equal(params.get('param_VendorPrincipal'), '111122223333');
    assert.equal(params.get('param_ExternalId'), 'ext+id=1,2.@:/-');
    assert.equal(
      params.get('param_VendorEventBusArn'),
      'arn:aws:events:us-east-1:111122223333:event-bus/listing-sync-catalog-events',
    );
  });

  it('leaves the event bus out when there is none, and keeps stack names valid', () => {
    const link = onboardingQuickCreateUrl({
      templateUrl: 'https://t.example/x.yaml',
      vendorPrincipal: 'arn:aws:iam::111122223333:role/listing-sync',
      externalId: 'abc',
      connectionId: '65f0c0ffee0123456789abcd',
    });
    assert.ok(!link.includes('VendorEventBusArn'));
    assert.match(onboardingStackName('x'.repeat(300)), /^listing-sync-x+$/);
    assert.equal(onboardingStackName('x'.repeat(300)).length, 128);
  });

  it('validates the vendor settings at start-up', () => {
    const base = { MONGODB_URI: 'mongodb://127.0.0.1:27017/x' };
    assert.throws(
      () =>
        loadConfig({
          ...base,
          VENDOR_AWS_PRINCIPAL: '1234',
          VENDOR_EVENT_BUS_ARN: 'arn:aws:events:eu-west-1:111122223333:event-bus/x',
          SELLER_TEMPLATE_URL: 'ftp://x',
          EVENTS_QUEUE_URL: 'not a url',
          SQS_PROTOCOL: 'xml',
        }),
      (err: Error) =>
        [
          'VENDOR_AWS_PRINCIPAL',
          'VENDOR_EVENT_BUS_ARN',
          'SELLER_TEMPLATE_URL',
          'EVENTS_QUEUE_URL',
          'SQS_PROTOCOL',
        ].every((name) => err.message.includes(name)),
    );
    const config = loadConfig({
      ...base,
      VENDOR_AWS_PRINCIPAL: 'arn:aws:iam::111122223333:role/listing-sync-worker',
      EVENTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/listing-sync-events',
    });
    assert.equal(config.events.sqsProtocol, 'json');
    assert.equal(queueRegion(config.events.queueUrl), 'us-east-1');
    assert.equal(queueRegion('https://sqs.eu-west-1.amazonaws.com/111122223333/q'), 'eu-west-1');
    assert.equal(queueRegion('http://127.0.0.1:4100/000000000000/q'), null);
    assert.equal(config.events.waitSeconds, 20);
    assert.equal(config.onboarding.templateUrl, null);
  });
});
