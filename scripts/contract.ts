// The app contract as JSON Schema (docs/app-contract.md), generated from the TypeScript types the workflows and the
// worker use, so the two cannot drift: `node --import tsx scripts/contract.ts` writes contract/v1/, and
// test/unit/contract.test.ts fails when the committed schemas differ from what the types generate today.
//
// Compatibility rule: within v1 a change is additive only (a new optional field, a new failure type). A change the
// test flags that removes or retypes a field is a v2, published beside v1, never over it.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';
import { FAILURES } from '../src/shared/failures.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONTRACT_DIR = `${ROOT}contract/v1/`;

/** Every message that crosses the boundary with the app, by the file it is published in. */
const TYPES: Record<string, string> = {
  'sync-connection-input': 'SyncConnectionInput',
  'sync-summary': 'SyncSummary',
  'refresh-request': 'RefreshRequest',
  'sync-connection-progress': 'SyncConnectionProgress',
  'sync-preview': 'SyncPreview',
  'sync-all-input': 'SyncAllInput',
  'sync-all-result': 'SyncAllResult',
  'sync-all-progress': 'SyncAllProgress',
  'sync-run-record': 'SyncRunRecord',
};

/** The published documents: one schema per message, and the failure types with whether each is retried. */
export function contractDocuments(): Record<string, unknown> {
  const generator = createGenerator({
    path: `${ROOT}src/shared/types.ts`,
    tsconfig: `${ROOT}tsconfig.json`,
    skipTypeCheck: true,
    additionalProperties: true,
    expose: 'export',
    topRef: false,
  });
  const docs: Record<string, unknown> = {};
  for (const [file, type] of Object.entries(TYPES)) {
    docs[`${file}.schema.json`] = {
      $id: `https://listing-sync/contract/v1/${file}.schema.json`,
      ...generator.createSchema(type),
    };
  }
  docs['failure-types.json'] = Object.fromEntries(
    Object.entries(FAILURES).map(([type, traits]) => [
      type,
      { retryable: traits.retryable, raisedBy: traits.raisedBy },
    ]),
  );
  return docs;
}

export function render(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  mkdirSync(CONTRACT_DIR, { recursive: true });
  for (const [file, doc] of Object.entries(contractDocuments())) writeFileSync(`${CONTRACT_DIR}${file}`, render(doc));
  console.log(`wrote ${CONTRACT_DIR}`);
}
