import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

// Bundles the workflow code ahead of time, as production workers should: the worker then loads the file
// (WORKFLOW_BUNDLE_PATH) instead of running webpack at start, which costs seconds and ~150 MB of memory.
const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const { code } = await bundleWorkflowCode({
  workflowsPath: new URL('../src/workflows/index.ts', import.meta.url).pathname,
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`Wrote ${out} (${(code.length / 1024).toFixed(0)} KB)`);
