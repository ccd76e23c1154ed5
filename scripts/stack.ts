import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { SEARCH_ATTRIBUTES } from '../src/shared/search-attributes.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const TOOLS = join(ROOT, '.tools', 'bin');
const TEMPORAL_CLI = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export interface Stack {
  env: Record<string, string>;
  temporalAddress: string;
  uiUrl: string | null;
  mongoUri: string;
  emulatorUrl: string | null;
  temporalCliPath: string | null;
  stop(): Promise<void>;
}

export interface StackOptions {
  mode: 'test' | 'local';
  dataDir: string;
  log?: (line: string) => void;
}

class StackError extends Error {}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, cmd);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function pickPort(envName: string, preferred: number | null): Promise<number> {
  const fromEnv = process.env[envName];
  if (fromEnv) return Number(fromEnv);
  if (preferred !== null && (await portIsFree(preferred))) return preferred;
  return freePort();
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor(
  what: string,
  logFile: string | null,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await delay(200);
  }
  const log = logFile ? `\nLast lines of ${logFile}:\n${tail(logFile)}` : '';
  throw new StackError(
    `${what} did not come up within ${timeoutMs / 1000} s${lastError ? ` (${lastError})` : ''}.${log}`,
  );
}

/** Builds a Go program into .tools/bin unless a build of the same sources is already there. */
function goBuild(
  name: string,
  what: string,
  build: (out: string) => string[],
  cwd: string,
  stampOf: () => string,
  log: (l: string) => void,
): string {
  const out = join(TOOLS, name);
  const stampFile = `${out}.stamp`;
  const stamp = stampOf();
  if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return out;
  if (!which('go')) throw new StackError(`Go is needed to build ${what} (install Go 1.24+ or put ${name} on PATH)`);
  mkdirSync(TOOLS, { recursive: true });
  log(`Building ${what} (first run only; minutes on a cold machine)...`);
  const started = Date.now();
  const [cmd, ...args] = build(out);
  const result = spawnSync(cmd!, args, { cwd, stdio: 'inherit', env: { ...process.env, GOBIN: TOOLS } });
  if (result.status !== 0) throw new StackError(`Building ${what} failed (exit ${result.status})`);
  writeFileSync(stampFile, stamp);
  log(`Built ${what} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return out;
}

function temporalBinary(log: (l: string) => void): string {
  const onPath = which('temporal');
  if (onPath) return onPath;
  return goBuild(
    'temporal',
    `the Temporal CLI (${TEMPORAL_CLI})`,
    () => ['go', 'install', TEMPORAL_CLI],
    ROOT,
    () => TEMPORAL_CLI,
    log,
  );
}

function ferretBinary(log: (l: string) => void): string {
  const dir = join(ROOT, 'tools', 'ferretdb');
  const stamp = () =>
    createHash('sha256')
      .update(['go.mod', 'go.sum', 'main.go'].map((f) => readFileSync(join(dir, f), 'utf8')).join('\0'))
      .digest('hex');
  return goBuild(
    'ferretdb-sqlite',
    'FerretDB v1.24.2 (tools/ferretdb)',
    (out) => ['go', 'build', '-o', out, '.'],
    dir,
    stamp,
    log,
  );
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(ROOT, opts.dataDir);
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const children: Array<{ name: string; proc: ChildProcess }> = [];

  const launch = (name: string, cmd: string, args: string[], env: Record<string, string> = {}) => {
    const file = join(logs, `${name}.log`);
    const out = createWriteStream(file, { flags: 'a' });
    const proc = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    proc.stdout?.pipe(out);
    proc.stderr?.pipe(out);
    children.push({ name, proc });
    return { proc, file };
  };

  const stop = async () => {
    for (const { proc } of children.reverse()) {
      if (proc.exitCode !== null || proc.pid === undefined) continue;
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        continue;
      }
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      const timedOut = await Promise.race([exited.then(() => false), delay(5_000).then(() => true)]);
      if (timedOut) {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    children.length = 0;
  };

  try {
    const env: Record<string, string> = { LISTING_SYNC_DATA_DIR: dataDir };

    // Temporal
    let temporalAddress = process.env.TEMPORAL_ADDRESS ?? '';
    let uiUrl: string | null = process.env.TEMPORAL_UI_URL ?? null;
    let temporalCliPath: string | null =
      which('temporal') ?? (existsSync(join(TOOLS, 'temporal')) ? join(TOOLS, 'temporal') : null);
    if (!temporalAddress) {
      temporalCliPath = temporalBinary(log);
      const port = await pickPort('TEMPORAL_PORT', opts.mode === 'local' ? 7233 : null);
      const uiPort = await pickPort(
        'TEMPORAL_UI_PORT',
        opts.mode === 'local' ? 8233 : port + 1000 <= 65535 && (await portIsFree(port + 1000)) ? port + 1000 : null,
      );
      const args = [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--ui-port',
        String(uiPort),
        '--namespace',
        'default',
        '--log-level',
        'warn',
      ];
      for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
      args.push('--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true');
      if (opts.mode === 'local') args.push('--db-filename', join(dataDir, 'temporal.db'));
      const { file } = launch('temporal', temporalCliPath, args);
      temporalAddress = `127.0.0.1:${port}`;
      uiUrl = `http://127.0.0.1:${uiPort}`;
      await waitFor('Temporal dev server', file, 90_000, async () => {
        const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1_000 });
        try {
          const health = await connection.healthService.check({});
          return Number(health.status) === 1; // SERVING
        } finally {
          await connection.close();
        }
      });
      const ui = uiUrl;
      await waitFor('Temporal Web UI', file, 30_000, async () => (await fetch(ui)).ok);
    } else {
      await waitFor(`Temporal at ${temporalAddress}`, null, 30_000, async () => {
        const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1_000 });
        await connection.close();
        return true;
      });
    }
    env.TEMPORAL_ADDRESS = temporalAddress;
    env.TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
    if (uiUrl) env.TEMPORAL_UI_URL = uiUrl;
    if (temporalCliPath) env.TEMPORAL_CLI_PATH = temporalCliPath;

    // MongoDB wire server
    const dbName = opts.mode === 'test' ? 'listing_sync_test' : 'listing_sync';
    let mongoUri = process.env.MONGODB_URI ?? '';
    if (!mongoUri) {
      const port = await pickPort('MONGO_PORT', opts.mode === 'local' ? 27017 : null);
      const mongod = which('mongod');
      let file: string;
      if (mongod) {
        mkdirSync(join(dataDir, 'mongod'), { recursive: true });
        ({ file } = launch('mongod', mongod, [
          '--dbpath',
          join(dataDir, 'mongod'),
          '--port',
          String(port),
          '--bind_ip',
          '127.0.0.1',
        ]));
      } else {
        const ferret = ferretBinary(log);
        ({ file } = launch('ferretdb', ferret, [
          '--listen-addr',
          `127.0.0.1:${port}`,
          '--sqlite-dir',
          join(dataDir, 'ferretdb'),
        ]));
      }
      mongoUri = `mongodb://127.0.0.1:${port}/${dbName}`;
      await waitFor(mongod ? 'mongod' : 'FerretDB', file, 60_000, async () => {
        const client = await new MongoClient(mongoUri, { serverSelectionTimeoutMS: 1_000 }).connect();
        try {
          await client.db(dbName).command({ ping: 1 });
          return true;
        } finally {
          await client.close();
        }
      });
    }
    env.MONGODB_URI = mongoUri;

    // AWS emulator
    let emulatorUrl: string | null = null;
    if (process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG) {
      env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = process.env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG;
      if (process.env.AWS_ENDPOINT_URL_STS) env.AWS_ENDPOINT_URL_STS = process.env.AWS_ENDPOINT_URL_STS;
    } else {
      const port = await pickPort('EMULATOR_PORT', opts.mode === 'local' ? 4599 : null);
      const args = ['--import', 'tsx', 'emulator/main.ts', '--port', String(port)];
      if (opts.mode === 'local') args.push('--data', 'emulator/data/demo-catalog.json');
      const { file } = launch('emulator', process.execPath, args);
      emulatorUrl = `http://127.0.0.1:${port}`;
      const url = emulatorUrl;
      await waitFor('AWS emulator', file, 30_000, async () => (await fetch(`${url}/_emulator/health`)).ok);
      env.AWS_ENDPOINT_URL_STS = emulatorUrl;
      env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = emulatorUrl;
      env.EMULATOR_ADMIN_URL = emulatorUrl;
      // The vendor's own base credentials; the emulator accepts any for STS, as a local stand-in.
      if (!process.env.AWS_ACCESS_KEY_ID) {
        env.AWS_ACCESS_KEY_ID = 'AKIALISTINGSYNCLOCAL';
        env.AWS_SECRET_ACCESS_KEY = 'local-vendor-secret';
      }
    }
    env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';

    return { env, temporalAddress, uiUrl, mongoUri, emulatorUrl, temporalCliPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<number> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode !== 'test' && mode !== 'local' && mode !== 'exec') {
    console.error('usage: stack.ts test [mocha args] | local | exec <command...>');
    return 2;
  }
  const started = Date.now();
  const dataDir = mode === 'local' ? '.data/local' : mode === 'test' ? '.data/test-run' : '.data/exec';
  if (mode !== 'local') rmSync(resolve(ROOT, dataDir), { recursive: true, force: true });
  let stack: Stack;
  try {
    stack = await startStack({ mode: mode === 'local' ? 'local' : 'test', dataDir });
  } catch (err) {
    console.error(`\nThe local stack did not start: ${(err as Error).message}`);
    return 1;
  }
  console.log(
    `Stack up in ${((Date.now() - started) / 1000).toFixed(1)} s: Temporal ${stack.temporalAddress}, UI ${stack.uiUrl ?? '-'}, MongoDB ${stack.mongoUri}, AWS emulator ${stack.emulatorUrl ?? 'external'}`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env };
  // The AWS SDK's notice that its 2027 releases need Node 22 would repeat in every test process; README says it once.
  if (mode === 'test') env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const children: ChildProcess[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => c.once('exit', r))));
    await stack.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));

  const run = (cmd: string, args: string[]) =>
    new Promise<number>((resolveRun) => {
      const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
      children.push(child);
      child.once('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)));
    });

  if (mode === 'test') {
    await shutdown(
      await run(join(ROOT, 'node_modules', '.bin', 'mocha'), rest.length > 0 ? rest : ['test/**/*.test.ts']),
    );
    return 0;
  }
  if (mode === 'exec') {
    const [cmd, ...args] = rest;
    await shutdown(cmd ? await run(cmd, args) : 2);
    return 0;
  }

  const workerLog = createWriteStream(join(resolve(ROOT, dataDir), 'logs', 'worker.log'), { flags: 'a' });
  const worker = spawn(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', 'src/worker/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(worker);
  for (const stream of [worker.stdout, worker.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      workerLog.write(chunk);
      for (const line of chunk.toString().trimEnd().split('\n')) console.log(`[worker] ${line}`);
    });
  }
  worker.once('exit', (code) => {
    if (!stopping) {
      console.error(`The worker exited (code ${code}); see ${join(dataDir, 'logs', 'worker.log')}`);
      void shutdown(1);
    }
  });
  const demo = await run(process.execPath, ['--import', 'tsx', 'scripts/demo-sync.ts']);
  console.log(
    `\n  Temporal Web UI: ${stack.uiUrl ?? '(external server)'}\n  The demo sync ${demo === 0 ? 'finished' : 'failed'}; the worker keeps running. Ctrl-C to stop everything.\n`,
  );
  return new Promise<number>(() => undefined);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
