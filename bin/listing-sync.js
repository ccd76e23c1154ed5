#!/usr/bin/env node
// `npx listing-sync`: runs the compiled CLI (dist/, made by `npm run build`) when it is up to date, and the
// TypeScript source through tsx otherwise, so that a stale dist/ never hides an edit under src/.
import { readdirSync, statSync } from 'node:fs';

const src = new URL('../src/', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

/** The newest modification time of `dir` and everything under it (a deleted file changes its directory's). */
function newestUnder(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** dist/cli/main.js exists and is at least as new as every file under src/ (or there is no src/ to run). */
function compiledIsCurrent() {
  let built;
  try {
    built = statSync(compiled).mtimeMs;
  } catch {
    return false;
  }
  try {
    return newestUnder(src) <= built;
  } catch {
    return true;
  }
}

let cli;
if (compiledIsCurrent()) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli/main.ts');
}
process.exitCode = await cli.runCli(process.argv.slice(2));
