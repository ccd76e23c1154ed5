import assert from 'node:assert/strict';
import {
  AccessDeniedException,
  BatchDescribeEntitiesCommand,
  DescribeEntityCommand,
  InternalServiceException,
  ListEntitiesCommand,
  MarketplaceCatalogClient,
  type MarketplaceCatalogClientConfig,
  paginateListEntities,
  ResourceNotFoundException,
  ResourceNotSupportedException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-marketplace-catalog';
import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { listEntities } from '../emulator/catalog.ts';
import { detailsDocument } from '../emulator/details.ts';
import { startEmulator, type RunningEmulator } from '../emulator/server.ts';
import type { Product } from '../emulator/state.ts';

const ACCOUNT = '111122223333';
const OPEN_ACCOUNT = '444455556666';
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
          { accountId: OPEN_ACCOUNT, roles: [{ name: 'NoExternalId', externalId: null }] },
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

  const sts = (config: STSClientConfig = {}) =>
    new STSClient({ region: 'us-east-1', credentials: base, maxAttempts: 1, ...config });
  async function session(
    tamper: (c: { secretAccessKey: string }) => void = () => {},
    config: MarketplaceCatalogClientConfig = {},
  ) {
    const { Credentials: c } = await sts().send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'test', ExternalId: 'ext-1234', DurationSeconds: 900 }),
    );
    const credentials = {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
    tamper(credentials);
    return new MarketplaceCatalogClient({ region: 'us-east-1', maxAttempts: 1, credentials, ...config });
  }
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emulator.url}/_emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

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
    assert.match(invalid.message, /^1 validation error detected: Value 'has spaces' at 'roleSessionName'/);
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

  it('AssumeRole: a role without an external ID, denyAssumeRole, bad durations, unsigned calls and throttling', async () => {
    const open = await sts().send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${OPEN_ACCOUNT}:role/NoExternalId`, RoleSessionName: 'open' }),
    );
    assert.match(open.AssumedRoleUser!.Arn!, /assumed-role\/NoExternalId\/open$/);
    const unknownRole = await errorOf(
      sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/Nope`, RoleSessionName: 's1' })),
    );
    assert.equal(unknownRole.name, 'AccessDenied');

    assert.equal((await admin('PATCH', `accounts/${ACCOUNT}/faults`, { denyAssumeRole: true })).status, 200);
    const denied = await errorOf(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'ext-1234' })),
    );
    assert.equal(denied.name, 'AccessDenied');
    await admin('PATCH', `accounts/${ACCOUNT}/faults`, { denyAssumeRole: null });

    const tooShort = await errorOf(
      sts().send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'ext-1234', DurationSeconds: 60 }),
      ),
    );
    assert.equal(tooShort.name, 'ValidationError');
    assert.equal(tooShort.$metadata.httpStatusCode, 400);
    const badExternalId = await errorOf(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'has space' })),
    );
    assert.equal(badExternalId.name, 'ValidationError');

    const unsigned = await fetch(`${emulator.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: 's1' }),
    });
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /<Code>MissingAuthenticationToken<\/Code>/);

    await admin('PATCH', `accounts/${ACCOUNT}/faults`, { throttleRate: 1 });
    const throttled = await errorOf(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'ext-1234' })),
    );
    await admin('PATCH', `accounts/${ACCOUNT}/faults`, { throttleRate: null });
    assert.equal(throttled.name, 'Throttling');
    assert.equal(throttled.$metadata.httpStatusCode, 400);
  });

  it('rejects a wrong secret, an expired session and a page token from another type', async () => {
    const forged = await session((c) => {
      c.secretAccessKey = 'x'.repeat(40);
    });
    const badSignature = await errorOf(
      forged.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' })),
    );
    assert.equal(badSignature.name, 'InvalidSignatureException');
    assert.equal(badSignature.$metadata.httpStatusCode, 403);

    const client = await session();
    const first = await client.send(
      new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct', MaxResults: 10 }),
    );
    assert.ok(first.NextToken);
    await assert.rejects(
      client.send(
        new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct', NextToken: first.NextToken }),
      ),
      ValidationException,
    );
    await assert.rejects(
      client.send(
        new ListEntitiesCommand({
          Catalog: 'AWSMarketplace',
          EntityType: 'SaaSProduct',
          NextToken: first.NextToken,
          Sort: { SortBy: 'Name', SortOrder: 'ASCENDING' },
        }),
      ),
      ValidationException,
      'a token is bound to the sort it was issued for',
    );
    await assert.rejects(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct', MaxResults: 0 })),
      ValidationException,
    );

    const { credentials: issued } = (await admin('GET', `issued-credentials?accountId=${ACCOUNT}`)).body as {
      credentials: Array<{ accessKeyId: string; expiration: string }>;
    };
    const mine = (await client.config.credentials()).accessKeyId;
    assert.ok(issued.some((c) => c.accessKeyId === mine));
    emulator.state.credentialsFor(mine)!.expiration = new Date(Date.now() - 1000).toISOString();
    const expired = await errorOf(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' })),
    );
    assert.equal(expired.name, 'ExpiredTokenException');
  });

  it('sorts on request, and injects ResourceNotSupportedException', async () => {
    const client = await session();
    const page = await client.send(
      new ListEntitiesCommand({
        Catalog: 'AWSMarketplace',
        EntityType: 'SaaSProduct',
        MaxResults: 50,
        Sort: { SortBy: 'LastModifiedDate', SortOrder: 'DESCENDING' },
      }),
    );
    const dates = page.EntitySummaryList!.map((s) => s.LastModifiedDate!);
    assert.deepEqual(dates, [...dates].sort().reverse());
    await assert.rejects(
      client.send(
        new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct', Sort: { SortBy: 'Bogus' } }),
      ),
      ValidationException,
    );
    await admin('PATCH', `accounts/${ACCOUNT}/faults`, {
      entityTypeErrors: { ProfessionalServicesProduct: { code: 'ResourceNotSupportedException' } },
    });
    const err = await client
      .send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'ProfessionalServicesProduct' }))
      .catch((e: unknown) => e);
    await admin('PATCH', `accounts/${ACCOUNT}/faults`, { entityTypeErrors: null });
    assert.ok(err instanceof ResourceNotSupportedException);
    assert.equal(err.$metadata.httpStatusCode, 415);
  });

  it('admin API: stats per operation and account, product replacement, global faults, reset', async () => {
    assert.deepEqual((await admin('GET', 'health')).body, { ok: true });
    assert.equal((await admin('POST', 'stats/reset')).status, 200);
    const client = await session();
    const list = await client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' }));
    const id = list.EntitySummaryList![0]!.EntityId!;
    await client.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: id }));
    await client.send(
      new BatchDescribeEntitiesCommand({ EntityRequestList: [{ Catalog: 'AWSMarketplace', EntityId: id }] }),
    );
    const stats = (await admin('GET', 'stats')).body;
    const expected = { AssumeRole: 1, ListEntities: 1, DescribeEntity: 1, BatchDescribeEntities: 1 };
    assert.deepEqual(stats.calls, expected);
    assert.deepEqual(stats.byAccount[ACCOUNT].calls, expected);

    const replaced = [
      {
        entityType: 'AmiProduct',
        entityId: 'prod-abcdefghij123',
        name: 'Replaced AMI',
        visibility: 'Restricted',
        lastModified: '2026-03-01T10:00:00Z',
      },
    ];
    assert.equal((await admin('PUT', `accounts/${ACCOUNT}/products`, { products: replaced })).status, 200);
    const after = await client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' }));
    assert.deepEqual(after.EntitySummaryList, [
      {
        Name: 'Replaced AMI',
        EntityType: 'AmiProduct',
        EntityId: 'prod-abcdefghij123',
        EntityArn: `arn:aws:aws-marketplace:us-east-1:${ACCOUNT}:AWSMarketplace/AmiProduct/prod-abcdefghij123`,
        LastModifiedDate: '2026-03-01T10:00:00Z',
        Visibility: 'Restricted',
      },
    ]);
    assert.equal((await admin('PUT', 'accounts/999999999999/products', { products: [] })).status, 404);
    assert.equal((await admin('PATCH', `accounts/${ACCOUNT}/faults`, { throttleRatio: 1 })).status, 400);

    assert.equal((await admin('PUT', 'faults', { throttleRate: 1 })).status, 200);
    await assert.rejects(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' })),
      ThrottlingException,
    );
    await admin('PUT', 'faults', {});

    assert.equal(
      (await admin('POST', 'accounts', { accounts: [{ accountId: '777788889999', roles: [] }] })).status,
      200,
    );
    assert.equal((await admin('POST', 'accounts', { accounts: [{ accountId: '123', roles: [] }] })).status, 400);
  });

  describe('product details', () => {
    const PRODUCTS: Product[] = [
      {
        entityType: 'SaaSProduct',
        entityId: 'prod-saasdetails01',
        name: 'Acme Analytics SaaS',
        visibility: 'Public',
        lastModified: '2026-02-01T10:00:00Z',
      },
      {
        entityType: 'AmiProduct',
        entityId: 'prod-amidetails001',
        name: 'Harbor Backup AMI 2',
        visibility: 'Limited',
        lastModified: '2026-02-02T10:00:00Z',
      },
      {
        entityType: 'ContainerProduct',
        entityId: 'prod-ctrdetails001',
        name: 'Orbit Search Container',
        visibility: 'Restricted',
        lastModified: '2026-02-03T10:00:00Z',
      },
      {
        entityType: 'ProfessionalServicesProduct',
        entityId: 'prod-psdetails0001',
        name: 'Beacon Migration Services',
        visibility: 'Draft',
        lastModified: '2026-02-04T10:00:00Z',
      },
    ];
    const [saas, ami, container, services] = PRODUCTS as [Product, Product, Product, Product];
    const SHARED_PARTS = ['Description', 'PromotionalResources', 'SupportInformation', 'Targeting'];
    const PARTS: Record<string, string[]> = {
      SaaSProduct: [...SHARED_PARTS, 'Dimensions', 'Versions'],
      AmiProduct: [...SHARED_PARTS, 'Versions', 'RegionAvailability', 'Dimensions', 'Compatibility'],
      ContainerProduct: [...SHARED_PARTS, 'Versions', 'RegionAvailability', 'Repositories', 'Dimensions'],
      ProfessionalServicesProduct: [...SHARED_PARTS, 'Dimensions'],
    };
    const batch = (client: MarketplaceCatalogClient, ids: string[]) =>
      client.send(
        new BatchDescribeEntitiesCommand({
          EntityRequestList: ids.map((EntityId) => ({ Catalog: 'AWSMarketplace', EntityId })),
        }),
      );
    const describe1 = (client: MarketplaceCatalogClient, EntityId: string) =>
      client.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId }));
    type Doc = Record<string, any>;

    // Fresh products and no faults for every test, whatever the one before changed.
    beforeEach(() =>
      emulator.state.putAccount({
        accountId: ACCOUNT,
        roles: [{ name: 'ListingSync', externalId: 'ext-1234' }],
        products: PRODUCTS,
        generate: { SaaSProduct: 25 },
      }),
    );

    it('BatchDescribeEntities and DescribeEntity serve each type’s DetailsDocument as AWS shapes it', async () => {
      const client = await session();
      const { EntityDetails, Errors } = await batch(
        client,
        PRODUCTS.map((p) => p.entityId),
      );
      assert.deepEqual(Errors, {});
      for (const p of PRODUCTS) {
        const detail = EntityDetails![p.entityId]!;
        assert.equal(detail.EntityType, `${p.entityType}@1.0`);
        assert.equal(
          detail.EntityArn,
          `arn:aws:aws-marketplace:us-east-1:${ACCOUNT}:AWSMarketplace/${p.entityType}/${p.entityId}`,
        );
        assert.equal(detail.EntityIdentifier, `${p.entityId}@${Date.parse(p.lastModified) / 1000}`);
        assert.equal(detail.LastModifiedDate, p.lastModified);
        const doc = detail.DetailsDocument as Doc;
        assert.deepEqual(Object.keys(doc).sort(), [...PARTS[p.entityType]!].sort(), p.entityType);
        // Cast, or deepEqual's assertion would narrow doc to the generator's looser type.
        assert.deepEqual(doc, detailsDocument(ACCOUNT, p) as Doc, 'the document crosses the wire unchanged');
        const { Description, PromotionalResources, SupportInformation } = doc;
        assert.equal(Description.ProductTitle, p.name);
        assert.equal(Description.ShortDescription, `Short description of ${p.name}`);
        assert.match(Description.LongDescription, new RegExp(`^Long description of ${p.name}\\.`));
        assert.deepEqual(
          Description.Highlights,
          [1, 2, 3].map((i) => `${p.name} highlight ${i}`),
        );
        assert.equal(Description.Categories.length, 2);
        assert.ok(Description.Categories.every((c: unknown) => typeof c === 'string'));
        assert.equal(Description.Visibility, p.visibility);
        assert.match(Description.ProductCode, /^[0-9a-f]{25}$/);
        assert.equal(Description.Manufacturer, null, 'the SDK keeps the nulls AWS sends in a document');
        assert.deepEqual(PromotionalResources.Videos, []);
        assert.equal(PromotionalResources.LogoUrl, `https://awsmp-logos.s3.amazonaws.com/${p.entityId}.png`);
        assert.equal(SupportInformation.Description, `Support for ${p.name}: support@example.com, 24x7.`);

        const one = await describe1(client, p.entityId);
        assert.equal(one.EntityIdentifier, detail.EntityIdentifier);
        assert.equal(one.EntityType, detail.EntityType);
        assert.deepEqual(one.DetailsDocument, doc);
        assert.deepEqual(JSON.parse(one.Details!), doc, 'the legacy Details string holds the same document');
      }
      const docOf = (p: Product) => EntityDetails![p.entityId]!.DetailsDocument as Doc;
      assert.deepEqual(docOf(saas).Description.SearchKeywords, ['acme', 'analytics', 'saas']);
      assert.deepEqual(docOf(ami).Description.SearchKeywords, ['harbor', 'backup', 'ami']);
      assert.equal(docOf(saas).Versions[0].DeliveryOptions[0].Type, 'SaaSUrl');
      assert.deepEqual(docOf(saas).Targeting, { PositiveTargeting: { BuyerAccounts: [] } });
      assert.equal(docOf(saas).Dimensions[0].Key, 'Users');
      assert.match(docOf(ami).Versions[0].Sources[0].Image, /^ami-[0-9a-f]{17}$/);
      assert.equal(docOf(ami).Versions[0].DeliveryOptions[0].SourceId, docOf(ami).Versions[0].Sources[0].Id);
      assert.deepEqual(
        docOf(ami).Dimensions.map((d: Doc) => d.Key),
        ['t3.medium', 'm5.large'],
      );
      assert.deepEqual(docOf(ami).Targeting, { PositiveTargeting: { BuyerAccounts: [ACCOUNT] } }, 'Limited');
      assert.equal(docOf(container).Versions[0].Sources[0].Type, 'DockerImages');
      assert.equal(docOf(container).Versions[0].CreationDate, '2026-02-03T10:00:00.000Z');
      assert.deepEqual(docOf(container).Repositories, [
        { Url: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/seller/${container.entityId}`, Type: 'ECR' },
      ]);
      assert.equal(docOf(services).Dimensions[0].Key, 'Engagement');
    });

    it('a product’s own details are served verbatim, however odd, and refused unless an object', async () => {
      const client = await session();
      const odd = {
        Description: { ProductTitle: null, ShortDescription: 42, Highlights: 'one', Categories: [null, 7, {}] },
        PromotionalResources: 'none',
        Huge: 'x'.repeat(300_000),
        Nested: { deep: [[], {}, [null]] },
      };
      assert.equal(
        (await admin('PATCH', `accounts/${ACCOUNT}/products/${saas.entityId}`, { details: odd })).status,
        200,
      );
      const { EntityDetails } = await batch(client, [saas.entityId, ami.entityId]);
      assert.deepEqual(EntityDetails![saas.entityId]!.DetailsDocument, odd);
      assert.deepEqual(EntityDetails![ami.entityId]!.DetailsDocument, detailsDocument(ACCOUNT, ami));
      const one = await describe1(client, saas.entityId);
      assert.deepEqual(one.DetailsDocument, odd);
      assert.deepEqual(JSON.parse(one.Details!), odd);
      const empty = await admin('PATCH', `accounts/${ACCOUNT}/products/${saas.entityId}`, { details: {} });
      assert.equal(empty.status, 200);
      assert.deepEqual((await describe1(client, saas.entityId)).DetailsDocument, {});
      await admin('PATCH', `accounts/${ACCOUNT}/products/${saas.entityId}`, { details: null });
      assert.deepEqual((await describe1(client, saas.entityId)).DetailsDocument, detailsDocument(ACCOUNT, saas));

      for (const details of [[], 'x', 1, null]) {
        const res = await admin('POST', 'accounts', {
          accounts: [{ accountId: ACCOUNT, roles: [], products: [{ ...saas, details }] }],
        });
        assert.equal(res.status, 400, JSON.stringify(details));
        assert.match(res.body.error, /details must be an object/);
      }
      const typo = await admin('PUT', `accounts/${ACCOUNT}/products`, { products: [{ ...saas, detail: {} }] });
      assert.equal(typo.status, 400);
      assert.match(typo.body.error, /unknown field\(s\) detail/);
      const patched = await admin('PATCH', `accounts/${ACCOUNT}/products/${saas.entityId}`, { details: ['x'] });
      assert.match(patched.body.error, /details must be an object/);
      const renamed = await admin('PATCH', `accounts/${ACCOUNT}/products/${saas.entityId}`, { entityId: 'prod-new' });
      assert.match(renamed.body.error, /keeps its entityId/);
      assert.equal((await admin('PATCH', `accounts/${ACCOUNT}/products/prod-nope`, {})).status, 404);
      // Nothing refused above changed the account: its role and products are as they were.
      assert.deepEqual((await describe1(client, saas.entityId)).DetailsDocument, detailsDocument(ACCOUNT, saas));
      await session();
    });

    it('describeErrors: BatchDescribeEntities lists them under Errors, DescribeEntity answers them', async () => {
      const client = await session();
      emulator.state.resetStats();
      const faults = await admin('PATCH', `accounts/${ACCOUNT}/faults`, {
        describeErrors: {
          [saas.entityId]: { code: 'AccessDeniedException', message: 'not yours' },
          'prod-ghost001': { code: 'InternalServiceException' },
        },
      });
      assert.equal(faults.status, 200, JSON.stringify(faults.body));
      const { EntityDetails, Errors } = await batch(client, [
        saas.entityId,
        ami.entityId,
        'prod-ghost001',
        'prod-missing1',
      ]);
      assert.deepEqual(Object.keys(EntityDetails!), [ami.entityId]);
      assert.deepEqual(Errors, {
        [saas.entityId]: { ErrorCode: 'AccessDeniedException', ErrorMessage: 'not yours' },
        'prod-ghost001': { ErrorCode: 'InternalServiceException', ErrorMessage: 'InternalServiceException (emulated)' },
        'prod-missing1': { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Entity prod-missing1 not found' },
      });

      const denied = await errorOf(describe1(client, saas.entityId));
      assert.ok(denied instanceof AccessDeniedException);
      assert.equal(denied.$metadata.httpStatusCode, 403);
      assert.equal(denied.message, 'not yours');
      const internal = await errorOf(describe1(client, 'prod-ghost001'));
      assert.ok(internal instanceof InternalServiceException);
      assert.equal(internal.$metadata.httpStatusCode, 500);
      await describe1(client, ami.entityId);

      // A global fault reaches every account; the account's own replaces it.
      await admin('PATCH', `accounts/${ACCOUNT}/faults`, { describeErrors: null });
      await admin('PUT', 'faults', { describeErrors: { [ami.entityId]: { code: 'ThrottlingException' } } });
      await assert.rejects(describe1(client, ami.entityId), ThrottlingException);
      await admin('PUT', 'faults', {});
      await describe1(client, ami.entityId);

      const stats = (await admin('GET', 'stats')).body.byAccount[ACCOUNT];
      assert.deepEqual(stats.calls, { BatchDescribeEntities: 1, DescribeEntity: 5 });
      assert.deepEqual(stats.errors, { DescribeEntity: 3 });
    });

    it('BatchDescribeEntities takes 1 to 20 entries, each naming the AWSMarketplace catalog and an entity', async () => {
      const client = await session();
      const ids = emulator.state
        .account(ACCOUNT)!
        .productsByType.get('SaaSProduct')!
        .map((p) => p.entityId)
        .slice(0, 21);
      assert.equal(ids.length, 21);
      const twenty = await batch(client, ids.slice(0, 20));
      assert.equal(Object.keys(twenty.EntityDetails!).length, 20);
      assert.deepEqual(twenty.Errors, {});

      const tooMany = await errorOf(batch(client, ids));
      assert.ok(tooMany instanceof ValidationException);
      assert.equal(tooMany.$metadata.httpStatusCode, 422);
      assert.match(tooMany.message, /'entityRequestList' failed to satisfy constraint: .*less than or equal to 20/);
      const invalid: Array<Array<Record<string, string>>> = [
        [],
        [{ Catalog: 'AWSMarketplace' }],
        [{ EntityId: ids[0]! }],
        [{ Catalog: 'SomewhereElse', EntityId: ids[0]! }],
        [
          { Catalog: 'AWSMarketplace', EntityId: ids[0]! },
          { Catalog: 'AWSMarketplace', EntityId: 'bad id!' },
        ],
      ];
      for (const list of invalid) {
        await assert.rejects(
          client.send(new BatchDescribeEntitiesCommand({ EntityRequestList: list as never })),
          ValidationException,
          JSON.stringify(list),
        );
      }
      await assert.rejects(describe1(client, 'bad id!'), ValidationException);
    });

    it('the revision in EntityIdentifier changes whenever lastModified does, and only then', async () => {
      const client = await session();
      const identifier = async () => (await describe1(client, ami.entityId)).EntityIdentifier!;
      const first = await identifier();
      assert.equal(first, (await batch(client, [ami.entityId])).EntityDetails![ami.entityId]!.EntityIdentifier);
      assert.equal(await identifier(), first, 'stable while the product is');

      await admin('PATCH', `accounts/${ACCOUNT}/products/${ami.entityId}`, { lastModified: '2026-02-02T10:00:01Z' });
      const second = await identifier();
      assert.notEqual(second, first, 'a second later is a new revision');
      assert.match(second, new RegExp(`^${ami.entityId}@\\d+$`));

      await admin('PATCH', `accounts/${ACCOUNT}/products/${ami.entityId}`, {
        name: 'Harbor Backup AMI 3',
        lastModified: '2026-03-01T00:00:00Z',
      });
      const renamed = await describe1(client, ami.entityId);
      assert.notEqual(renamed.EntityIdentifier, second);
      assert.equal(renamed.LastModifiedDate, '2026-03-01T00:00:00Z');
      assert.equal(
        (renamed.DetailsDocument as Doc).Description.ShortDescription,
        'Short description of Harbor Backup AMI 3',
      );
      const listed = await client.send(
        new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' }),
      );
      assert.deepEqual(
        listed.EntitySummaryList!.map((s) => [s.Name, s.LastModifiedDate]),
        [['Harbor Backup AMI 3', '2026-03-01T00:00:00Z']],
      );
    });
  });

  describe('hostile AWS faults', () => {
    const assume = (client = sts()) =>
      client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 's1', ExternalId: 'ext-1234' }));
    const list = (client: MarketplaceCatalogClient, EntityType = 'SaaSProduct', NextToken?: string) =>
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType, MaxResults: 50, NextToken }));
    const faults = async (body: Record<string, unknown>) => {
      const res = await admin('PATCH', `accounts/${ACCOUNT}/faults`, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    // Mocha runs these after the tests above, one of which forgets every account.
    before(() =>
      emulator.state.putAccount({
        accountId: ACCOUNT,
        roles: [{ name: 'ListingSync', externalId: 'ext-1234' }],
        generate: { SaaSProduct: 123, AmiProduct: 2 },
      }),
    );
    afterEach(async () => {
      await faults({ outage: null, hang: null, loopingTokens: null, oddSummaries: null });
      await admin('PUT', 'faults', {});
    });

    it('an outage answers 429 as throttling and 500 as an internal error in each protocol, until it ends', async () => {
      const client = await session();
      emulator.state.resetStats();

      await faults({ outage: { durationMs: 300, status: 429 } });
      const throttled = await errorOf(list(client));
      assert.ok(throttled instanceof ThrottlingException);
      assert.equal(throttled.$metadata.httpStatusCode, 429);
      const stsThrottled = await errorOf(assume());
      assert.equal(stsThrottled.name, 'Throttling');
      assert.equal(stsThrottled.$metadata.httpStatusCode, 400, 'STS throttles with a 400');
      await delay(350);
      await list(client);
      await assume();

      await faults({ outage: { durationMs: 300, status: 500 } });
      const internal = await errorOf(list(client));
      assert.ok(internal instanceof InternalServiceException);
      assert.equal(internal.$metadata.httpStatusCode, 500);
      const stsInternal = await errorOf(assume());
      assert.equal(stsInternal.name, 'InternalFailure');
      assert.equal(stsInternal.$metadata.httpStatusCode, 500);
      await delay(350);
      await list(client);
      await assume();

      const stats = (await admin('GET', 'stats')).body.byAccount[ACCOUNT];
      assert.deepEqual(stats.calls, { AssumeRole: 4, ListEntities: 4 });
      assert.deepEqual(stats.throttled, { AssumeRole: 1, ListEntities: 1 });
      assert.deepEqual(stats.errors, { AssumeRole: 1, ListEntities: 1 });
    });

    it('a 502/503/504 outage is a load balancer’s HTML page, limited to the operations named', async () => {
      const client = await session();
      const id = (await list(client)).EntitySummaryList![0]!.EntityId!;
      await faults({ outage: { durationMs: 60_000, status: 502 } });
      const catalog502 = await errorOf(list(client));
      assert.equal(catalog502.$metadata.httpStatusCode, 502);
      assert.ok(!(catalog502 instanceof ThrottlingException || catalog502 instanceof InternalServiceException));
      const sts502 = await errorOf(assume());
      assert.equal(sts502.$metadata.httpStatusCode, 502);

      const raw = await fetch(`${emulator.url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          Action: 'AssumeRole',
          Version: '2011-06-15',
          RoleArn: ROLE,
          RoleSessionName: 's1',
        }),
      });
      assert.equal(raw.status, 502);
      assert.match(raw.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(raw.headers.get('x-amzn-errortype'), null);
      assert.match(await raw.text(), /<h1>502 Bad Gateway<\/h1>/);

      await faults({ outage: { durationMs: 60_000, status: 504, operations: ['DescribeEntity'] } });
      const timedOut = await errorOf(
        client.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: id })),
      );
      assert.equal(timedOut.$metadata.httpStatusCode, 504);
      await list(client);
      await client.send(
        new BatchDescribeEntitiesCommand({ EntityRequestList: [{ Catalog: 'AWSMarketplace', EntityId: id }] }),
      );
      await faults({ outage: null });

      // A global outage covers every account, and a later call than durationMs finds AWS back.
      assert.equal(
        (await admin('PUT', 'faults', { outage: { durationMs: 300, status: 503, operations: ['AssumeRole'] } })).status,
        200,
      );
      const unavailable = await errorOf(assume());
      assert.equal(unavailable.$metadata.httpStatusCode, 503);
      await list(client);
      await delay(350);
      await assume();
    });

    it('a hung call is never answered: the client times out, and clearing the fault lets the next call through', async () => {
      // Without throwOnRequestTimeout this SDK only logs a warning when requestTimeout passes, and keeps waiting.
      const requestHandler = { requestTimeout: 500, throwOnRequestTimeout: true };
      const client = await session(undefined, { requestHandler });
      const patient = sts({ requestHandler });
      emulator.state.resetStats();
      await faults({ hang: { operations: ['ListEntities', 'AssumeRole'] } });
      const started = Date.now();
      const [catalogTimeout, stsTimeout] = await Promise.all([errorOf(list(client)), errorOf(assume(patient))]);
      assert.equal(catalogTimeout.name, 'TimeoutError');
      assert.equal(stsTimeout.name, 'TimeoutError');
      assert.ok(Date.now() - started >= 450, 'held until the client gave up');
      const id = (
        await client.send(
          new BatchDescribeEntitiesCommand({
            EntityRequestList: [{ Catalog: 'AWSMarketplace', EntityId: 'prod-missing' }],
          }),
        )
      ).Errors;
      assert.ok(id?.['prod-missing'], 'operations not named still answer');

      await faults({ hang: null });
      assert.equal((await list(client)).EntitySummaryList!.length, 50);
      await assume(patient);
      const stats = (await admin('GET', 'stats')).body;
      assert.deepEqual(stats.hung, { ListEntities: 1, AssumeRole: 1 });
      assert.deepEqual(stats.byAccount[ACCOUNT].hung, { ListEntities: 1, AssumeRole: 1 });
      assert.deepEqual(stats.byAccount[ACCOUNT].calls, { ListEntities: 2, AssumeRole: 2, BatchDescribeEntities: 1 });
    });

    it('a hung call whose client hangs up leaves no socket behind in the emulator', async () => {
      await faults({ hang: { operations: ['AssumeRole'] } });
      emulator.state.resetStats();
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const body = new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE }).toString();
      const held = Array.from({ length: 10 }, () => {
        const req = request(`${emulator.url}/`, {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        req.on('error', () => {}); // the hang-up this test causes
        req.end(body);
        return req;
      });
      while ((emulator.state.hung.AssumeRole ?? 0) < 10) await delay(10);
      // Measured against the count while held: idle keep-alive sockets of other clients may close meanwhile.
      const whileHeld = sockets();
      for (const req of held) req.destroy();
      for (let i = 0; i < 100 && sockets() > whileHeld - 20; i += 1) await delay(10);
      assert.ok(sockets() <= whileHeld - 20, 'both ends of every held request are gone');
      await faults({ hang: null });
      await assume();
    });

    it('looping tokens end a listing on a token back to its first page, one the client already sent', async () => {
      const client = await session();
      await faults({ loopingTokens: { SaaSProduct: true, ContainerProduct: true } });
      const sent = new Set<string>();
      const firstIds = (await list(client)).EntitySummaryList!.map((s) => s.EntityId);
      let token: string | undefined;
      let repeatedAt = 0;
      for (let call = 1; call <= 4 && !repeatedAt; call += 1) {
        if (token) sent.add(token);
        const page = await list(client, 'SaaSProduct', token);
        assert.ok(page.NextToken, 'the listing never ends');
        if (sent.has(page.NextToken)) {
          repeatedAt = call;
          assert.deepEqual(
            page.EntitySummaryList!.map((s) => s.EntityId),
            firstIds,
            'the looped page is the first one',
          );
        }
        token = page.NextToken;
      }
      assert.equal(repeatedAt, 4, '123 products are 3 pages, then the first again');

      const empty = await list(client, 'ContainerProduct');
      assert.deepEqual(empty.EntitySummaryList, []);
      assert.ok(empty.NextToken, 'an empty type loops too');
      assert.equal((await list(client, 'ContainerProduct', empty.NextToken)).NextToken, empty.NextToken);

      const sorted = await client.send(
        new ListEntitiesCommand({
          Catalog: 'AWSMarketplace',
          EntityType: 'ContainerProduct',
          Sort: { SortBy: 'Name', SortOrder: 'DESCENDING' },
        }),
      );
      await client.send(
        new ListEntitiesCommand({
          Catalog: 'AWSMarketplace',
          EntityType: 'ContainerProduct',
          Sort: { SortBy: 'Name', SortOrder: 'DESCENDING' },
          NextToken: sorted.NextToken,
        }),
      );
      await assert.rejects(
        list(client, 'ContainerProduct', sorted.NextToken),
        ValidationException,
        'bound to the sort',
      );

      const { EntitySummaryList, NextToken } = await client.send(
        new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'AmiProduct' }),
      );
      assert.ok(EntitySummaryList!.length > 0);
      assert.equal(NextToken, undefined, 'other types still end');
    });

    it('odd summaries are appended verbatim to the first page only', async () => {
      const client = await session();
      const odd = [
        { EntityId: 'prod-x', Name: 42, Visibility: null, EntityType: 'SaaSProduct' },
        { EntityId: 'prod-y', Name: 'Container in the wrong list', EntityType: 'ContainerProduct' },
      ];
      await faults({ oddSummaries: { SaaSProduct: odd } });
      const wire = listEntities(emulator.state, ACCOUNT, { Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' });
      assert.deepEqual((JSON.parse(wire.body) as { EntitySummaryList: unknown[] }).EntitySummaryList.slice(20), odd);
      const first = await list(client);
      const summaries = first.EntitySummaryList!;
      assert.equal(summaries.length, 52);
      // The SDK passes a wrongly typed value through as it came, and drops a null member.
      assert.deepEqual(summaries.slice(50), [{ EntityId: 'prod-x', Name: 42, EntityType: 'SaaSProduct' }, odd[1]]);
      const second = await list(client, 'SaaSProduct', first.NextToken);
      assert.equal(second.EntitySummaryList!.length, 50);
      assert.ok(second.EntitySummaryList!.every((s) => s.EntityId!.startsWith('prod-') && s.EntityId!.length === 18));
      const last = await list(client, 'SaaSProduct', second.NextToken);
      assert.equal(last.EntitySummaryList!.length, 23);
      assert.equal(last.NextToken, undefined);
      await assert.rejects(
        client.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: 'prod-x' })),
        ResourceNotFoundException,
      );
    });

    it('the admin API refuses malformed faults with a 400 that says what is wrong', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ outage: { durationMs: 100, status: 418 } }, /outage\.status must be one of 429, 500, 502, 503, 504/],
        [{ outage: { durationMs: -1, status: 429 } }, /outage\.durationMs must be a number >= 0/],
        [{ outage: { status: 429 } }, /outage\.durationMs/],
        [{ outage: { durationMs: 1, status: 429, operations: ['PutEntity'] } }, /outage\.operations must be/],
        [{ outage: { durationMs: 1, status: 429, until: 5 } }, /unknown outage field\(s\): until/],
        [{ outage: true }, /outage must be/],
        [{ hang: { operations: 'ListEntities' } }, /hang\.operations must be/],
        [{ hang: [] }, /hang must be/],
        [{ loopingTokens: { SaaSProduct: 1 } }, /loopingTokens must be/],
        [{ loopingTokens: ['SaaSProduct'] }, /loopingTokens must be/],
        [{ oddSummaries: { SaaSProduct: {} } }, /oddSummaries\.SaaSProduct must be an array of objects/],
        [{ oddSummaries: { SaaSProduct: [1] } }, /oddSummaries\.SaaSProduct must be an array of objects/],
        [{ oddSummaries: [] }, /oddSummaries must be/],
        [{ hung: {} }, /unknown fault\(s\): hung/],
        [{ describeErrors: [] }, /describeErrors must be an object of \{ code, message\? \}/],
        [{ describeErrors: { 'prod-x': 'AccessDeniedException' } }, /describeErrors\.prod-x\.code is required/],
        [{ describeErrors: { 'prod-x': { message: 'm' } } }, /describeErrors\.prod-x\.code is required/],
        [{ describeErrors: { 'prod-x': { code: 'X', message: 1 } } }, /describeErrors\.prod-x\.message must be/],
        [
          { describeErrors: { 'prod-x': { code: 'X', status: 500 } } },
          /unknown describeErrors\.prod-x field\(s\): status/,
        ],
      ];
      for (const [body, message] of cases) {
        for (const [method, path] of [
          ['PATCH', `accounts/${ACCOUNT}/faults`],
          ['PUT', 'faults'],
        ] as const) {
          const res = await admin(method, path, body);
          assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}`);
          assert.match(res.body.error, message);
        }
      }
      const accepted = await admin('POST', 'accounts', {
        accounts: [
          { accountId: '121212121212', roles: [], faults: { hang: {}, outage: { durationMs: 0, status: 429 } } },
        ],
      });
      assert.equal(accepted.status, 200);
      const refused = await admin('POST', 'accounts', {
        accounts: [{ accountId: '121212121212', roles: [], faults: { hang: { operations: ['Nope'] } } }],
      });
      assert.equal(refused.status, 400);
    });
  });

  it('the CLI prints its URL, serves the data file and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'emulator/main.ts', '--port', '0', '--data', 'emulator/data/demo-catalog.json'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const match = /^EMULATOR_LISTENING (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      assert.ok(match, line);
      // Pointed at the CLI's server the same way as the product: by the standard endpoint variables only.
      process.env.AWS_ENDPOINT_URL_STS = match[1];
      process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = match[1];
      const { Credentials: c } = await sts().send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::123456789012:role/ListingSyncReadOnly',
          RoleSessionName: 'demo',
          ExternalId: 'ls-demo-7f3a9c2e41d8',
        }),
      );
      const demo = new MarketplaceCatalogClient({
        region: 'us-east-1',
        credentials: {
          accessKeyId: c!.AccessKeyId!,
          secretAccessKey: c!.SecretAccessKey!,
          sessionToken: c!.SessionToken!,
        },
      });
      let count = 0;
      for await (const page of paginateListEntities(
        { client: demo, pageSize: 50 },
        { Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' },
      ))
        count += page.EntitySummaryList!.length;
      assert.ok(count > 50, `the demo seller has more than one page of SaaS products (${count})`);
    } finally {
      process.env.AWS_ENDPOINT_URL_STS = emulator.url;
      process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = emulator.url;
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });

  it('DELETE /_emulator/accounts forgets accounts and the credentials issued for them', async () => {
    const client = await session();
    assert.equal((await admin('DELETE', 'accounts')).status, 200);
    const err = await errorOf(
      client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' })),
    );
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.deepEqual((await admin('GET', 'stats')).body.calls, {});
  });
});
