import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { CONTRACT_DIR, contractDocuments } from '../../scripts/contract.ts';

// contract/v1/ is what app code in any language reads (docs/app-contract.md). It is generated from the TypeScript
// types; this fails when the two drift. Within v1 only additive changes are allowed (scripts/contract.ts).
describe('the published app contract (contract/v1)', function () {
  this.timeout(60_000);
  // Generated in a hook: a generator error then fails this suite, not the loading of every test file.
  let docs: ReturnType<typeof contractDocuments>;
  before(() => {
    docs = contractDocuments();
  });
  const published = (file: string): unknown => JSON.parse(readFileSync(`${CONTRACT_DIR}${file}`, 'utf8'));

  it('is exactly what the TypeScript types generate today', () => {
    assert.deepEqual(readdirSync(CONTRACT_DIR).sort(), Object.keys(docs).sort());
    for (const [file, doc] of Object.entries(docs)) {
      assert.deepEqual(
        published(file),
        doc,
        `${file} drifted: regenerate with scripts/contract.ts, keeping changes additive`,
      );
    }
  });

  it("requires what the workflows' boundary requires", () => {
    const input = published('sync-connection-input.schema.json') as { required?: string[]; properties?: object };
    assert.deepEqual(input.required, ['connectionId']);
    const refresh = published('refresh-request.schema.json') as { required?: string[] };
    assert.deepEqual([...(refresh.required ?? [])].sort(), ['account', 'detailType', 'eventId']);
    const failures = published('failure-types.json') as Record<string, { retryable: boolean }>;
    assert.equal(failures.InvalidInput?.retryable, false);
    assert.equal(failures.CatalogThrottled?.retryable, true);
  });
});
