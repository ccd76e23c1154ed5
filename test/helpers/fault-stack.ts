import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startStack, type Stack } from '../../scripts/stack.ts';
import type { EmulatorAccount } from './emulator.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

// What scripts/stack.ts put in this process's environment for the outer test stack (or a person set to
// point the tests at other servers). The fault stack must launch servers of its own, since it kills them.
const OUTER_STACK_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_UI_URL',
  'MONGODB_URI',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_MARKETPLACE_CATALOG',
  'EMULATOR_ADMIN_URL',
  'LISTING_SYNC_DATA_DIR',
  'TEMPORAL_PORT',
  'TEMPORAL_UI_PORT',
  'MONGO_PORT',
  'EMULATOR_PORT',
];

/** A copy of process.env without the outer stack's addresses; process.env itself is never changed. */
export function envWithoutOuterStack(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of OUTER_STACK_KEYS) delete env[key];
  return env;
}

export interface FaultStack {
  stack: Stack;
  /** The environment for every process of the suite: the base environment plus the fault stack's addresses. */
  env: Record<string, string>;
  dataDir: string;
  bundlePath: string;
  stop(): Promise<void>;
}

/**
 * A stack of its own (Temporal keeping its state on disk, so it can be killed and restarted), plus the workflow
 * bundle built once into a file, as production workers load it.
 */
export async function startFaultStack(dataDir: string): Promise<FaultStack> {
  const absolute = resolve(ROOT, dataDir);
  rmSync(absolute, { recursive: true, force: true });
  const base = envWithoutOuterStack();
  const bundlePath = join(absolute, 'workflow-bundle.js');
  // Bundling runs in its own process, alongside the servers' start-up: webpack in the test process would cost memory.
  const [stack] = await Promise.all([
    startStack({
      mode: 'test',
      dataDir: absolute,
      persistentTemporal: true,
      env: base,
      log: (line) => console.log(`  [fault stack] ${line}`),
    }),
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', bundlePath], {
      cwd: ROOT,
      env: base,
    }),
  ]);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  Object.assign(env, stack.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const forgetSignals = cleanUpOnSignals(stack);
  return {
    stack,
    env,
    dataDir: absolute,
    bundlePath,
    async stop() {
      forgetSignals();
      await stack.stop();
    },
  };
}

const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Mocha dies of Ctrl-C or of the SIGTERM scripts/stack.ts sends it without running exit hooks, and the worker
 * and the servers live in process groups of their own: stop them here, then die of the same signal.
 */
function cleanUpOnSignals(stack: Stack): () => void {
  const forget = () => {
    for (const signal of CLEANUP_SIGNALS) process.removeListener(signal, handler);
  };
  const handler = (signal: NodeJS.Signals) => {
    forget();
    // The test keeps running while the servers stop: it must not launch a worker nobody would stop.
    shuttingDown = true;
    killWorkers();
    const abort = new AbortController();
    void Promise.race([stack.stop(), delay(10_000, undefined, { signal: abort.signal })])
      .catch(() => undefined)
      .finally(() => {
        abort.abort();
        killWorkers();
        process.kill(process.pid, signal);
      });
  };
  for (const signal of CLEANUP_SIGNALS) process.on(signal, handler);
  return forget;
}

/** The emulator's admin API at an explicit address (test/helpers/emulator.ts reads the outer stack's). */
export async function putEmulatorAccounts(adminUrl: string, accounts: EmulatorAccount[]): Promise<void> {
  // Chunks keep each request body small; the emulator parses it in one piece.
  for (let i = 0; i < accounts.length; i += 100) {
    const res = await fetch(`${adminUrl.replace(/\/$/, '')}/_emulator/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accounts: accounts.slice(i, i + 100) }),
    });
    assert.ok(res.ok, `emulator POST accounts answered ${res.status}: ${await res.text()}`);
  }
}

const liveWorkers = new Set<ChildProcess>();
let exitHookInstalled = false;
let shuttingDown = false;

function killWorkers(): void {
  for (const proc of liveWorkers) if (isAlive(proc)) killGroup(proc, 'SIGKILL');
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // Already gone.
  }
}

const isAlive = (proc: ChildProcess) => proc.exitCode === null && proc.signalCode === null;

/**
 * The worker as production runs it (`npm run worker`), in a process of its own so that SIGKILL is a real crash.
 * It runs in its own process group: tsx's esbuild service dies with it instead of lingering.
 */
export class WorkerProcess {
  private proc: ChildProcess | null = null;
  private expectingExit = false;
  /** Exits nobody asked for (a crash of the worker itself), with the log's tail. */
  readonly unexpectedExits: string[] = [];
  starts = 0;

  constructor(
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.proc !== null && isAlive(this.proc);
  }

  start(): void {
    assert.ok(!this.running, 'the worker is already running');
    assert.ok(!shuttingDown, 'the test process is shutting down on a signal');
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // A test process that exits early (mocha --exit, a failed before hook) must not leave workers polling.
      process.on('exit', killWorkers);
    }
    this.starts += 1;
    // The child writes straight into the file, so nothing it printed just before a SIGKILL is lost in a pipe.
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `--- worker start #${this.starts} at ${new Date().toISOString()} ---\n`);
    let proc: ChildProcess;
    try {
      proc = spawn(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', 'src/worker/main.ts'], {
        cwd: ROOT,
        env: this.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.expectingExit = false;
    this.proc = proc;
    liveWorkers.add(proc);
    proc.once('exit', (code, signal) => {
      liveWorkers.delete(proc);
      if (!this.expectingExit) {
        this.unexpectedExits.push(`exit ${code ?? signal}; last lines of ${this.logFile}:\n${this.tail()}`);
      }
    });
  }

  /** SIGKILL (or `signal`) to the worker's process group; resolves once it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || !isAlive(proc)) return;
    this.expectingExit = true;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    killGroup(proc, signal);
    await exited;
  }

  /** A graceful stop (SIGTERM drains the worker), SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || !isAlive(proc)) return;
    this.expectingExit = true;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    killGroup(proc, 'SIGTERM');
    const abort = new AbortController();
    const outcome = await Promise.race([exited, delay(15_000, 'timeout' as const, { signal: abort.signal })]);
    abort.abort();
    if (outcome === 'timeout') await this.kill('SIGKILL');
  }

  tail(lines = 30): string {
    if (!existsSync(this.logFile)) return '(no log)';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}
