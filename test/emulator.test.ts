import assert from 'node:assert/strict';
import {
  AccessDeniedException,
  BatchDescribeEntitiesCommand,
  DescribeEntityCommand,
  InternalServiceException,
  ListEntitiesCommand,
  MarketplaceCatalogClient,
  paginateListEntities,
  ResourceNotFoundException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-marketplace-catalog';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { startEmulator, type RunningEmulator } from '../emulator/server.ts';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ListingSync`;
const base = { accessKeyId: 'AKIATEST', secretAccessKey: 'test' };

type AwsError = Error & { $metadata: { httpStatusCode: number } };
const errorOf = (p: Promise<unknown>): Promise<AwsError> =>
  p.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e as AwsError,
  );

describe('AWS emulator through the official SDK clients', () => {
  let emulator: RunningEmulator;
  const saved = { sts: process.env.AWS_ENDPOINT_URL_STS, catalog: process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG };

  before(async () => {
    emulator = await startEmulator({
      port: 0,
      data: {
        accounts: [
          {
            accountId: ACCOUNT,
            roles: [{ name: 'ListingSync', externalId: 'ext-1234' }],
            generate: { SaaSProduct: 123, AmiProduct: 2 },
          },
        ],
      },
    });
    // The product reaches the emulator only through the SDK's standard endpoint variables.
    process.env.AWS_ENDPOINT_URL_STS = emulator.url;
    process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = emulator.url;
  });
  after(async () => {
    process.env.AWS_ENDPOINT_URL_STS = saved.sts;
    process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = saved.catalog;
    if (saved.sts === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
    if (saved.catalog === undefined) delete process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG;
    await emulator?.close();
  });

  const sts = () => new STSClient({ region: 'us-east-1', credentials: base, maxAttempts: 1 });
  async function session(): Promise<MarketplaceCatalogClient> {
    const { Credentials: c } = await sts().send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'test', ExternalId: 'ext-1234', DurationSeconds: 900 }),
    );
    return new MarketplaceCatalogClient({
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      },
    });
  }

  it('AssumeRole issues fresh credentials per call', async () => {
    const send = () =>
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'ext-1234' }));
    const [a, b] = [await send(), await send()];
    assert.match(a.Credentials!.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(a.Credentials!.SecretAccessKey!.length, 40);
    assert.ok(a.Credentials!.Expiration instanceof Date);
    assert.equal(a.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/ListingSync/s1`);
    assert.notEqual(a.Credentials!.SecretAccessKey, b.Credentials!.SecretAccessKey);
  });

  it('AssumeRole with the wrong external ID is AccessDenied (403), a bad session name a ValidationError', async () => {
    const denied = await errorOf(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'wrong-id' })),
    );
    assert.equal(denied.name, 'AccessDenied');
    assert.equal(denied.$metadata.httpStatusCode, 403);
    assert.match(denied.message, /not authorized to perform: sts:AssumeRole/);
    const missing = await errorOf(sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1' })));
    assert.equal(missing.name, 'AccessDenied', 'a role that requires an external ID refuses a call without one');
    const invalid = await errorOf(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'has spaces', ExternalId: 'ext-1234' })),
    );
    assert.equal(invalid.name, 'ValidationError');
  });

  it('ListEntities pages through more than 50 products with the SDK paginator', async () => {
    const client = await session();
    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateListEntities(
      { client, pageSize: 50 },
      { Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct', OwnershipType: 'SELF' },
    )) {
      pages += 1;
      for (const s of page.EntitySummaryList ?? []) {
        ids.push(s.EntityId!);
        assert.match(s.LastModifiedDate!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.match(s.EntityId!, /^prod-[a-z0-9]{13}$/);
        assert.ok(['Public', 'Limited', 'Restricted', 'Draft'].includes(s.Visibility!));
      }
    }
    assert.equal(pages, 3);
    assert.equal(ids.length, 123);
    assert.equal(new Set(ids).size, 123);
    const shared = await client.send(
      new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct', OwnershipType: 'SHARED' }),
    );
    assert.deepEqual(shared.EntitySummaryList, []);
  });

  it('DescribeEntity and BatchDescribeEntities round trip', async () => {
    const client = await session();
    const list = await client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' }));
    const id = list.EntitySummaryList![0]!.EntityId!;
    const one = await client.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: id }));
    assert.match(one.EntityIdentifier!, new RegExp(`^${id}@\\d+$`));
    assert.equal(one.EntityType, 'AmiProduct@1.0');
    const batch = await client.send(
      new BatchDescribeEntitiesCommand({
        EntityRequestList: [
          { Catalog: 'AWSMarketplace', EntityId: id },
          { Catalog: 'AWSMarketplace', EntityId: 'prod-missing' },
        ],
      }),
    );
    assert.deepEqual(Object.keys(batch.EntityDetails ?? {}), [id]);
    assert.equal(batch.Errors?.['prod-missing']?.ErrorCode, 'ResourceNotFoundException');
    await assert.rejects(
      client.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: 'prod-nope' })),
      ResourceNotFoundException,
    );
  });

  it('maps every injected error to the SDK’s named exception', async () => {
    const client = await session();
    const cases = [
      ['ValidationException', ValidationException, 422],
      ['AccessDeniedException', AccessDeniedException, 403],
      ['InternalServiceException', InternalServiceException, 500],
      ['ResourceNotFoundException', ResourceNotFoundException, 404],
      ['ThrottlingException', ThrottlingException, 429],
    ] as const;
    for (const [code, cls, status] of cases) {
      emulator.state.patchFaults(ACCOUNT, {
        entityTypeErrors: { ContainerProduct: { code, message: `injected ${code}` } },
      });
      const err = await client
        .send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'ContainerProduct' }))
        .catch((e: unknown) => e);
      assert.ok(err instanceof cls, `${code} surfaces as ${cls.name}`);
      assert.equal((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, status);
      assert.equal((err as Error).message, `injected ${code}`);
    }
    emulator.state.patchFaults(ACCOUNT, { entityTypeErrors: null });
    await assert.rejects(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Bogus' })),
      ValidationException,
    );
    await assert.rejects(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct', MaxResults: 51 })),
      ValidationException,
    );
  });

  it('throttles at the configured rate as ThrottlingException, and counts calls per account', async () => {
    const client = await session();
    emulator.state.resetStats();
    emulator.state.patchFaults(ACCOUNT, { throttleRate: 1 });
    await assert.rejects(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' })),
      ThrottlingException,
    );
    emulator.state.patchFaults(ACCOUNT, { throttleRate: 0.3 });
    let throttled = 0;
    for (let i = 0; i < 20; i += 1) {
      await client
        .send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' }))
        .catch((e: unknown) => {
          assert.ok(e instanceof ThrottlingException);
          throttled += 1;
        });
    }
    assert.equal(throttled, 6, '30 % of 20 calls');
    emulator.state.patchFaults(ACCOUNT, { throttleRate: null });
    const stats = emulator.state.stats();
    assert.equal(stats.byAccount[ACCOUNT]?.calls.ListEntities, 21);
    assert.equal(stats.byAccount[ACCOUNT]?.throttled.ListEntities, 7);
  });

  it('rejects Catalog calls not signed with credentials its STS issued', async () => {
    const vendor = new MarketplaceCatalogClient({ region: 'us-east-1', credentials: base, maxAttempts: 1 });
    const err = await errorOf(
      vendor.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' })),
    );
    assert.equal(err.name, 'UnrecognizedClientException');
  });
});
