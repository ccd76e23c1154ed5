import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

// Bundles the workflow code ahead of time, as production workers should: the worker then loads the file
// (WORKFLOW_BUNDLE_PATH) instead of running webpack at start, which costs seconds and ~150 MB of memory.
// `npm run build` writes it beside the compiled worker, to dist/workflow-bundle.js (the default here, whatever the
// working directory). It bundles the TypeScript source: webpack compiles it the same way as a worker bundling at start.
const out = process.argv[2]
  ? resolve(process.argv[2])
  : fileURLToPath(new URL('../dist/workflow-bundle.js', import.meta.url));
const { code } = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url)),
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`Wrote ${out} (${(code.length / 1024).toFixed(0)} KB)`);
