import assert from 'node:assert/strict';
import { roleSessionName, validateConnection } from '../../src/domain/connection.ts';
import { catalogTypeFor, ENTITY_TYPES } from '../../src/domain/entity-types.ts';
import { normalizeSummary, type DiscoveredProduct } from '../../src/domain/products.ts';
import { planReconcile, type ExistingListing } from '../../src/domain/reconcile-plan.ts';
import { importStatusFor } from '../../src/domain/visibility.ts';
import { DETAILS_LIMITS, detailsDocumentOf, extractDetails } from '../../src/domain/product-details.ts';

const now = new Date('2026-11-24T12:00:00Z');

function product(entityId: string, name: string, visibility = 'Public', lastModified = '2026-10-01T00:00:00Z') {
  return { entityId, entityType: 'SaaSProduct', name, visibility, lastModified } satisfies DiscoveredProduct;
}

let newIds = 0;

function plan(products: DiscoveredProduct[], listings: ExistingListing<string>[], runId = 'run-1') {
  return planReconcile({
    teamId: 'team-1',
    connectionId: 'conn-1',
    runId,
    completeTypes: ['SaaSProduct'],
    newId: () => `new-${(newIds += 1)}`,
    products,
    listings,
    now,
  });
}

/** What the rows look like after a plan's writes were applied (all of them, or the first `upTo` of each kind). */
function applied(
  listings: ExistingListing<string>[],
  result: ReturnType<typeof plan>,
  upTo = Infinity,
): ExistingListing<string>[] {
  const rows = new Map(listings.map((row) => [row._id, { ...row }]));
  for (const { _id, set } of [...result.updates.slice(0, upTo), ...result.links.slice(0, upTo)]) {
    rows.set(_id, { ...rows.get(_id)!, ...set });
  }
  for (const doc of result.inserts.slice(0, upTo)) rows.set(doc._id, { ...doc });
  return [...rows.values()];
}

describe('entity types', () => {
  it('maps every AWS entity type to its catalog type', () => {
    assert.deepEqual(
      ENTITY_TYPES.map((t) => catalogTypeFor(t)),
      ['SAAS', 'AMI', 'CONTAINER', 'PROF'],
    );
  });
});

describe('live vs draft', () => {
  it('imports Public, Limited and Restricted as published and everything else as complete', () => {
    assert.equal(importStatusFor('Public'), 'published');
    assert.equal(importStatusFor('Limited'), 'published');
    assert.equal(importStatusFor('Restricted'), 'published');
    assert.equal(importStatusFor('Draft'), 'complete');
    assert.equal(importStatusFor('Unavailable'), 'complete');
    assert.equal(importStatusFor('public'), 'complete');
  });
});

describe('connection validation', () => {
  const good = {
    _id: 'c1',
    team_id: 't1',
    provider: 'aws',
    iam_role_arn: 'arn:aws:iam::123456789012:role/ListingSync',
    external_id: 'ext-123',
  };

  it('accepts a well-formed connection and reads the account from the ARN', () => {
    const check = validateConnection(good);
    assert.ok(check.ok);
    assert.equal(check.connection.accountId, '123456789012');
  });

  it('names every problem of a malformed connection', () => {
    const check = validateConnection({
      _id: 'c2',
      provider: 'aws',
      iam_role_arn: 'arn:aws:iam::12:user/x',
      external_id: 'x',
    });
    assert.ok(!check.ok);
    assert.equal(check.problems.length, 3);
    assert.match(check.problems.join('\n'), /team_id is missing/);
    assert.match(check.problems.join('\n'), /not an IAM role ARN/);
    assert.match(check.problems.join('\n'), /external_id must be 2-1224/);
  });

  it('rejects a missing external ID and an account id that contradicts the ARN', () => {
    const check = validateConnection({ ...good, external_id: undefined, aws_account_id: '999999999999' });
    assert.ok(!check.ok);
    assert.match(check.problems.join('\n'), /external_id is missing/);
    assert.match(check.problems.join('\n'), /does not match/);
  });

  it('refuses a role outside the aws partition, where the Catalog API does not exist', () => {
    for (const partition of ['aws-cn', 'aws-us-gov']) {
      const check = validateConnection({
        ...good,
        iam_role_arn: `arn:${partition}:iam::123456789012:role/ListingSync`,
      });
      assert.ok(!check.ok);
      assert.match(check.problems.join('\n'), new RegExp(`${partition} partition.*only in the aws partition`));
    }
  });

  it('builds a session name STS accepts', () => {
    const name = roleSessionName('65a1 f/x'.repeat(20));
    assert.match(name, /^[\w+=,.@-]{2,64}$/);
  });
});

describe('normalizing AWS summaries', () => {
  it('reports a product without an id and keeps odd ones with fallbacks', () => {
    assert.equal(normalizeSummary({ Name: 'X' }, 'AmiProduct').ok, false);
    const odd = normalizeSummary({ EntityId: 'prod-1', LastModifiedDate: 'yesterday' }, 'AmiProduct');
    assert.ok(odd.ok);
    assert.deepEqual(odd.product, {
      entityId: 'prod-1',
      entityType: 'AmiProduct',
      name: 'prod-1',
      visibility: 'Unknown',
      lastModified: null,
    });
  });

  it('never throws on fields of the wrong type, and reports a summary of another entity type', () => {
    const wrong = normalizeSummary(
      { EntityId: 'prod-2', Name: 42, Visibility: null, LastModifiedDate: { d: 1 } },
      'SaaSProduct',
    );
    assert.ok(wrong.ok);
    assert.deepEqual(wrong.product, {
      entityId: 'prod-2',
      entityType: 'SaaSProduct',
      name: 'prod-2',
      visibility: 'Unknown',
      lastModified: null,
    });
    for (const raw of [null, 'x', { EntityId: 7 }, { EntityId: '   ' }, { EntityId: 'has space' }]) {
      const result = normalizeSummary(raw as never, 'SaaSProduct');
      assert.equal(result.ok, false, JSON.stringify(raw));
    }
    const other = normalizeSummary({ EntityId: 'prod-3', EntityType: 'AmiProduct', Name: 'A' }, 'SaaSProduct');
    assert.ok(!other.ok);
    assert.match(other.reason, /prod-3.*AmiProduct.*SaaSProduct/);
  });
});

describe('reconcile plan', () => {
  it('pass 1 updates only rows whose visibility or last-modified changed', () => {
    const result = plan(
      [
        product('p1', 'One', 'Public'),
        product('p2', 'Two', 'Limited'),
        product('p3', 'Three', 'Public', '2026-11-01T00:00:00Z'),
      ],
      [
        { _id: 'l1', entity_id: 'p1', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
        { _id: 'l2', entity_id: 'p2', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
        { _id: 'l3', entity_id: 'p3', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
      ],
    );
    assert.deepEqual(result.counts, { total_aws: 3, matched: 3, updated: 2, auto_linked: 0, imported: 0 });
    assert.deepEqual(
      result.updates.map((u) => u._id),
      ['l2', 'l3'],
    );
    assert.deepEqual(Object.keys(result.updates[0]!.set).sort(), [
      'aws_last_modified',
      'aws_missing_since',
      'aws_visibility',
      'last_sync_action',
      'last_sync_run_id',
      'last_synced_at',
    ]);
    assert.equal(result.updates[0]!.set.last_synced_at, now);
  });

  it('pass 2 links a published unlinked row by trimmed, case-insensitive title', () => {
    const result = plan(
      [product('p1', '  Acme Observability ')],
      [{ _id: 'l1', title: 'acme observability', status: 'published' }],
    );
    assert.equal(result.counts.auto_linked, 1);
    assert.equal(result.counts.imported, 0);
    assert.deepEqual(result.links[0], {
      _id: 'l1',
      set: {
        entity_id: 'p1',
        catalog_type: 'SAAS',
        aws_visibility: 'Public',
        aws_last_modified: new Date('2026-10-01T00:00:00Z'),
        aws_missing_since: null,
        last_synced_at: now,
        last_sync_run_id: 'run-1',
        last_sync_action: 'auto_linked',
      },
    });
  });

  it('pass 2 never links a row that is not published', () => {
    const result = plan([product('p1', 'Acme')], [{ _id: 'l1', title: 'Acme', status: 'draft' }]);
    assert.equal(result.counts.auto_linked, 0);
    assert.equal(result.counts.imported, 1);
  });

  it('an ambiguous title links nothing, imports nothing and is reported', () => {
    const twoRows = plan(
      [product('p1', 'Acme')],
      [
        { _id: 'l1', title: 'Acme', status: 'published' },
        { _id: 'l2', title: 'ACME', status: 'published' },
      ],
    );
    assert.deepEqual(twoRows.counts, { total_aws: 1, matched: 0, updated: 0, auto_linked: 0, imported: 0 });
    assert.deepEqual(twoRows.ambiguous, [{ title: 'Acme', listing_ids: ['l1', 'l2'], entity_ids: ['p1'] }]);

    const twoProducts = plan(
      [product('p1', 'Acme'), product('p2', 'acme')],
      [{ _id: 'l1', title: 'Acme', status: 'published' }],
    );
    assert.equal(twoProducts.links.length + twoProducts.inserts.length, 0);
    assert.deepEqual(twoProducts.ambiguous[0]?.entity_ids, ['p1', 'p2']);
  });

  it('pass 3 imports the rest as published or complete by visibility', () => {
    const result = plan([product('p1', 'Live', 'Restricted'), product('p2', 'Wip', 'Draft')], []);
    assert.equal(result.counts.imported, 2);
    const [live, wip] = result.inserts;
    assert.equal(live?.status, 'published');
    assert.equal(live?.published_at, now);
    assert.equal(live?.catalog_type, 'SAAS');
    assert.equal(live?.team_id, 'team-1');
    assert.equal(live?.connection_id, 'conn-1');
    assert.equal(wip?.status, 'complete');
    assert.equal(wip?.published_at, null);
  });

  it('a second plan over the same catalog writes nothing', () => {
    const products = [product('p1', 'One'), product('p2', 'Two', 'Draft')];
    const first = plan(products, []);
    const stored = first.inserts.map((doc) => ({ ...doc }));
    const second = plan(products, stored, 'run-2');
    assert.deepEqual(second.counts, { total_aws: 2, matched: 2, updated: 0, auto_linked: 0, imported: 0 });
    assert.equal(second.updates.length + second.links.length + second.inserts.length, 0);
  });

  it('a re-run of the same run after some or all of its writes counts them as first counted', () => {
    const products = [
      product('p1', 'Kept'),
      product('p2', 'Moved', 'Limited'),
      product('p3', 'Linked'),
      product('p4', 'New one'),
      product('p5', 'New two', 'Draft'),
    ];
    const before: ExistingListing<string>[] = [
      { _id: 'l1', entity_id: 'p1', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
      { _id: 'l2', entity_id: 'p2', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
      { _id: 'l3', title: 'linked', status: 'published' },
    ];
    const first = plan(products, before);
    const expected = { total_aws: 5, matched: 2, updated: 1, auto_linked: 1, imported: 2 };
    assert.deepEqual(first.counts, expected);
    for (const upTo of [0, 1, Infinity]) {
      const again = plan(products, applied(before, first, upTo));
      assert.deepEqual(again.counts, expected, `after ${upTo} writes of each kind`);
      const rest = applied(applied(before, first, upTo), again);
      assert.deepEqual(
        rest.map((r) => r.entity_id ?? null).sort(),
        ['p1', 'p2', 'p3', 'p4', 'p5'],
        'every product ends in exactly one row',
      );
    }
    const done = plan(products, applied(before, first));
    assert.equal(done.updates.length + done.links.length + done.inserts.length, 0, 'a complete run writes nothing');
  });

  it('counts a product AWS listed twice once', () => {
    const result = plan([product('p1', 'One'), product('p1', 'One')], []);
    assert.equal(result.counts.total_aws, 1);
    assert.equal(result.inserts.length, 1);
  });
});

describe('AWS product details', () => {
  it('reads the shared fields of a DetailsDocument as AWS documents them', () => {
    const details = extractDetails({
      Description: {
        ProductTitle: 'Container Product 1',
        ShortDescription: ' Short ',
        LongDescription: 'Long',
        Highlights: ['Some highlight'],
        Categories: ['Operating Systems'],
        SearchKeywords: ['some keyword'],
      },
      PromotionalResources: { LogoUrl: 'https://awsmp-logos.s3.amazonaws.com/logo.png', Videos: [] },
      SupportInformation: { Description: 'Support', Resources: [] },
    });
    assert.deepEqual(details, {
      short_description: 'Short',
      long_description: 'Long',
      highlights: ['Some highlight'],
      categories: ['Operating Systems'],
      search_keywords: ['some keyword'],
      logo_url: 'https://awsmp-logos.s3.amazonaws.com/logo.png',
      support_description: 'Support',
    });
  });

  it('leaves a missing or odd field empty and caps what it keeps', () => {
    const empty = {
      short_description: null,
      long_description: null,
      highlights: [],
      categories: [],
      search_keywords: [],
      logo_url: null,
      support_description: null,
    };
    for (const odd of [undefined, null, 'x', [], { Description: 'flat' }, { Description: { Highlights: 'one' } }]) {
      assert.deepEqual(extractDetails(odd), empty, JSON.stringify(odd));
    }
    const huge = extractDetails({
      Description: { LongDescription: 'x'.repeat(100_000), Highlights: [1, 'ok', null, ...Array(50).fill('h')] },
      PromotionalResources: { LogoUrl: 'javascript:alert(1)' },
    });
    assert.equal(huge.long_description?.length, DETAILS_LIMITS.longText);
    assert.equal(huge.highlights.length, DETAILS_LIMITS.listEntries);
    assert.equal(huge.highlights[0], 'ok');
    assert.equal(huge.logo_url, null);
  });

  it('falls back to the legacy Details string', () => {
    const doc = detailsDocumentOf({ Details: JSON.stringify({ Description: { ShortDescription: 'S' } }) });
    assert.equal(extractDetails(doc).short_description, 'S');
    assert.equal(detailsDocumentOf({ Details: '{not json' }), undefined);
  });
});

describe('reconcile plan: AWS details and products gone from AWS', () => {
  const described = (row: ExistingListing<string>, lastModified: string, runId = 'run-0') => ({
    ...row,
    aws_details_synced_at: now,
    aws_details_modified: new Date(lastModified),
    aws_details_run_id: runId,
  });

  it('describes new rows, rows whose AWS revision moved and linked rows never described, and nothing else', () => {
    const result = plan(
      [
        product('p1', 'Current', 'Public', '2026-10-01T00:00:00Z'),
        product('p2', 'Moved', 'Public', '2026-11-01T00:00:00Z'),
        product('p3', 'Never described'),
        product('p4', 'Linked by title'),
        product('p5', 'New'),
      ],
      [
        described(
          { _id: 'l1', entity_id: 'p1', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
          '2026-10-01T00:00:00Z',
        ),
        described(
          { _id: 'l2', entity_id: 'p2', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
          '2026-10-01T00:00:00Z',
        ),
        { _id: 'l3', entity_id: 'p3', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
        { _id: 'l4', title: 'linked by title', status: 'published' },
      ],
    );
    assert.deepEqual(result.describe.map((d) => d.entityId).sort(), ['p2', 'p3', 'p4', 'p5']);
    assert.equal(result.describe.find((d) => d.entityId === 'p5')?._id, result.inserts[0]?._id);
  });

  it('counts rows an earlier attempt of the same run described, without describing them again', () => {
    const rows = [
      described(
        { _id: 'l1', entity_id: 'p1', aws_visibility: 'Public', aws_last_modified: new Date('2026-10-01T00:00:00Z') },
        '2026-10-01T00:00:00Z',
        'run-1',
      ),
      {
        _id: 'l2',
        entity_id: 'p2',
        aws_visibility: 'Public',
        aws_last_modified: new Date('2026-10-01T00:00:00Z'),
        aws_details_error: { run_id: 'run-1' },
      },
    ];
    const result = plan([product('p1', 'A'), product('p2', 'B')], rows);
    assert.deepEqual(result.describedEarlier, { enriched: 1, errors: 1 });
    assert.equal(result.describe.length, 0);
  });

  it("flags this connection's rows of completely listed types that AWS no longer lists, and un-flags a returning one", () => {
    const result = plan(
      [product('p1', 'Back again')],
      [
        {
          _id: 'l1',
          entity_id: 'p1',
          connection_id: 'conn-1',
          catalog_type: 'SAAS',
          aws_visibility: 'Public',
          aws_last_modified: new Date('2026-10-01T00:00:00Z'),
          aws_missing_since: now,
        },
        { _id: 'l2', entity_id: 'gone', connection_id: 'conn-1', catalog_type: 'SAAS' },
        { _id: 'l3', entity_id: 'gone-before', connection_id: 'conn-1', catalog_type: 'SAAS', aws_missing_since: now },
        { _id: 'l4', entity_id: 'ami-gone', connection_id: 'conn-1', catalog_type: 'AMI' },
        { _id: 'l5', entity_id: 'other-connection', connection_id: 'conn-2', catalog_type: 'SAAS' },
      ],
    );
    assert.deepEqual(result.missing, [
      { _id: 'l2', alreadyFlagged: false },
      { _id: 'l3', alreadyFlagged: true },
    ]);
    assert.deepEqual(
      result.updates.map((u) => [u._id, u.set.aws_missing_since]),
      [['l1', null]],
    );
    assert.equal(result.counts.updated, 1, 'un-flagging a returning product is an update');
  });
});
