import { execFile } from 'node:child_process';

const BIN = new URL('../../bin/listing-sync.js', import.meta.url).pathname;

export interface CliRun {
  code: number;
  out: string;
}

/** Runs `npx listing-sync …` as a user would, in a process of its own, with the given environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/** The JSON object a `--json` run printed last. */
export function cliJson(run: CliRun): any {
  return JSON.parse(run.out.trim().split('\n').at(-1)!);
}
