import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  mkdirSync,
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, relative, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { startPostgres } from './postgres.ts';
import { createSqsClient } from '../src/events/sqs.ts';
import { SEARCH_ATTRIBUTES } from '../src/shared/search-attributes.ts';
import { createEventQueues } from './event-queues.ts';
import { runLanes } from './test-lanes.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TOOLS = join(ROOT, '.tools', 'bin');
const TEMPORAL_CLI = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
// The newest goaws the Go module proxy serves; it speaks SQS's Query protocol (README: "Why goaws").
const GOAWS = 'github.com/Admiral-Piett/goaws/app/cmd@v0.4.5';
const LOCAL_EVENT_QUEUE = 'listing-sync-events';
const STOP_GRACE_MS = 5_000;
// The SDK's type names as the dev server's --search-attribute flag spells them.
const CLI_SEARCH_ATTRIBUTE_TYPES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export type ServerName = 'temporal' | 'mongo' | 'emulator' | 'sqs';

/** Fault injection on one server the stack launched (crash tests kill and restart servers mid-run). */
export interface ServerControl {
  /** Signals the server's process group (SIGKILL unless told otherwise) and resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Relaunches it with the same command line and environment (same ports, same data files) and resolves once it is
   * healthy, as at the first start. The emulator keeps its accounts in memory only: a restarted one starts empty.
   */
  start(): Promise<void>;
  readonly running: boolean;
}

export interface Stack {
  env: Record<string, string>;
  temporalAddress: string;
  uiUrl: string | null;
  mongoUri: string;
  emulatorUrl: string | null;
  /** The SQS-compatible server's endpoint (AWS_ENDPOINT_URL_SQS). */
  sqsEndpoint: string | null;
  temporalCliPath: string | null;
  /** The servers this stack launched; a server given by the environment (e.g. TEMPORAL_ADDRESS) has no entry. */
  servers: Partial<Record<ServerName, ServerControl>>;
  /** Stops every server running now, restarted ones included; afterwards start() refuses. */
  stop(): Promise<void>;
}

export interface StackOptions {
  mode: 'test' | 'local';
  dataDir: string;
  log?: (line: string) => void;
  /** Keep Temporal's state in `<dataDir>/temporal.db` in test mode too, so a restarted server still has it. */
  persistentTemporal?: boolean;
  /**
   * Where server addresses, ports and AWS settings are read from, and the servers' environment; process.env when
   * absent. A test that runs inside another stack passes an environment without that stack's addresses.
   */
  env?: NodeJS.ProcessEnv;
}

class StackError extends Error {}

// Every server this process started, across stacks, so a signal or an exit during start-up still reaches them.
const running = new Set<ChildProcess>();
// Resolves once everything a server printed is in its log file (process.exit would drop pending writes).
const logWritten = new WeakMap<ChildProcess, Promise<void>>();
let exitHookInstalled = false;

/** Waits for `promise` at most `ms`; unlike racing a bare delay, leaves no timer holding the event loop open. */
async function within<T>(promise: Promise<T> | undefined, ms: number): Promise<T | 'timeout'> {
  const abort = new AbortController();
  try {
    return await Promise.race([
      promise ?? Promise.resolve('timeout' as const),
      delay(ms, 'timeout' as const, { signal: abort.signal }),
    ]);
  } finally {
    abort.abort();
  }
}

function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** Servers run in their own process group (Ctrl-C must not reach them before the worker has drained). */
function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within the grace period. */
export async function stopProcess(proc: ChildProcess, group: boolean): Promise<void> {
  if (!isRunning(proc)) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  if (group) signalGroup(proc, 'SIGTERM');
  else proc.kill('SIGTERM');
  if ((await within(exited, STOP_GRACE_MS)) === 'timeout') {
    if (group) signalGroup(proc, 'SIGKILL');
    else proc.kill('SIGKILL');
    await exited;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for an exit that skipped stop(): only synchronous work is possible here.
  process.on('exit', () => {
    for (const proc of running) if (isRunning(proc)) signalGroup(proc, 'SIGKILL');
  });
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

function goBinary(): string | null {
  return which('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
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

async function pickPort(env: NodeJS.ProcessEnv, envName: string, preferred: number | null): Promise<number> {
  const fromEnv = env[envName];
  if (fromEnv) {
    const port = Number(fromEnv);
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      throw new StackError(`${envName}=${fromEnv} is not a port`);
    return port;
  }
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
  proc?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  const logHint = () => (logFile ? `\nLog: ${logFile}\nLast lines:\n${tail(logFile)}` : '');
  while (Date.now() < deadline) {
    if (proc && !isRunning(proc)) {
      await within(logWritten.get(proc), 2_000);
      throw new StackError(`${what} exited during start-up (code ${proc.exitCode ?? proc.signalCode}).${logHint()}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await delay(250);
  }
  throw new StackError(
    `${what} did not come up within ${timeoutMs / 1000} s${lastError ? ` (last error: ${lastError})` : ''}.${logHint()}`,
  );
}

function runGo(args: string[], cwd: string, what: string, env: Record<string, string> = {}): void {
  const go = goBinary();
  if (!go) throw new StackError(`Go 1.24+ is needed to build ${what}; install it or put the binary on PATH`);
  const result = spawnSync(go, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0)
    throw new StackError(`Building ${what} failed (go ${args.join(' ')}: exit ${result.status})`);
}

function temporalBinary(log: (l: string) => void): string {
  const onPath = which('temporal');
  if (onPath) return onPath;
  const built = join(TOOLS, 'temporal');
  const stampFile = `${built}.stamp`;
  // A stamp naming another version means TEMPORAL_CLI was bumped since the last build.
  const stale = existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() !== TEMPORAL_CLI;
  if (existsSync(built) && !stale) return built;
  mkdirSync(TOOLS, { recursive: true });
  log(`Building the Temporal CLI (${TEMPORAL_CLI}) into .tools/bin: first run only, about 3 min on a cold machine...`);
  const started = Date.now();
  runGo(['install', TEMPORAL_CLI], ROOT, 'the Temporal CLI', { GOBIN: TOOLS });
  writeFileSync(stampFile, TEMPORAL_CLI);
  log(`Built the Temporal CLI in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return built;
}

function ferretBinary(log: (l: string) => void): string {
  const dir = join(ROOT, 'tools', 'ferretdb');
  const out = join(TOOLS, 'ferretdb-sqlite');
  const stampFile = `${out}.stamp`;
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(dir, f))).update('\0');
  const stamp = hash.digest('hex');
  if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return out;
  mkdirSync(TOOLS, { recursive: true });
  log('Building the FerretDB wrapper (tools/ferretdb) into .tools/bin: about 1 min on a cold machine...');
  const started = Date.now();
  runGo(['build', '-o', out, '.'], dir, 'the FerretDB wrapper');
  writeFileSync(stampFile, stamp);
  log(`Built the FerretDB wrapper in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return out;
}

function goawsBinary(log: (l: string) => void): string {
  const built = join(TOOLS, 'goaws');
  const stampFile = `${built}.stamp`;
  if (existsSync(built) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === GOAWS) return built;
  const buildDir = join(ROOT, '.tools', 'goaws-build');
  mkdirSync(buildDir, { recursive: true });
  log(`Building goaws (${GOAWS}), the local SQS server, into .tools/bin: first run only, about 10 s...`);
  runGo(['install', GOAWS], ROOT, 'goaws', { GOBIN: buildDir });
  // The module's main package is named "cmd"; the binary gets a name that says what it is.
  renameSync(join(buildDir, 'cmd'), built);
  writeFileSync(stampFile, GOAWS);
  return built;
}

/**
 * The MongoDB-wire store FerretDB runs on when no MONGODB_URI is given and no mongod is on PATH: `postgresql` (the
 * default: index-backed, like MongoDB) or `sqlite` (no server to start, but every non-`_id` filter scans the whole
 * collection, so figures with products do not scale the way production's do).
 */
function localStore(env: NodeJS.ProcessEnv): 'postgresql' | 'sqlite' {
  const store = env.LOCAL_MONGO_STORE ?? 'postgresql';
  if (store !== 'postgresql' && store !== 'sqlite') {
    throw new StackError(`LOCAL_MONGO_STORE must be postgresql or sqlite, not ${JSON.stringify(store)}`);
  }
  return store;
}

async function temporalServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    const health = await connection.healthService.check({});
    return Number(health.status) === 1; // SERVING
  } finally {
    await connection.close();
  }
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const source = opts.env ?? process.env;
  // Frozen at start, so a restart gets exactly the environment of the first launch whatever the caller changed since.
  const serverEnv: NodeJS.ProcessEnv = { ...source };
  const dataDir = resolve(ROOT, opts.dataDir);
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  // In launch order; each entry yields the server's current process, which changes when it is restarted.
  const launched: Array<() => ChildProcess | null> = [];
  const servers: Stack['servers'] = {};
  let stopped = false;
  installExitHook();

  const launch = (name: string, cmd: string, args: string[]) => {
    const file = join(logs, `${name}.log`);
    const out = createWriteStream(file, { flags: 'a' });
    const proc = spawn(cmd, args, {
      cwd: ROOT,
      env: serverEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // Two sources share one file: neither may end it alone.
    proc.stdout.pipe(out, { end: false });
    proc.stderr.pipe(out, { end: false });
    proc.once('error', (err) => out.write(`failed to start ${cmd}: ${err.message}\n`));
    proc.once('close', () => out.end());
    logWritten.set(
      proc,
      new Promise<void>((r) => {
        out.once('finish', r);
        out.once('error', () => r());
      }),
    );
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    return { proc, file, out };
  };

  /** Launches a server, waits until `healthy`, and registers its ServerControl for kill/restart. */
  const serve = async (
    name: ServerName,
    logName: string,
    cmd: string,
    args: string[],
    healthy: (proc: ChildProcess, logFile: string) => Promise<void>,
  ): Promise<void> => {
    let proc: ChildProcess | null = null;
    let starts = 0;
    const isUp = () => proc !== null && isRunning(proc);
    const start = async () => {
      if (stopped) throw new StackError(`the stack was stopped: ${logName} cannot start again`);
      if (isUp()) throw new StackError(`${logName} is already running (pid ${proc?.pid})`);
      starts += 1;
      const server = launch(logName, cmd, args);
      // One log file per server across restarts; the marker says where each life begins.
      if (starts > 1) server.out.write(`--- restarted by the stack script at ${new Date().toISOString()} ---\n`);
      proc = server.proc;
      await healthy(server.proc, server.file);
    };
    servers[name] = {
      start,
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        const target = proc;
        if (target === null || !isRunning(target)) return;
        const exited = new Promise<void>((r) => target.once('exit', () => r()));
        signalGroup(target, signal);
        await exited;
        await within(logWritten.get(target), 2_000);
      },
      get running() {
        return isUp();
      },
    };
    launched.push(() => proc);
    await start();
  };

  /** What goes after every server has stopped (a store behind FerretDB). */
  const afterServers: Array<() => Promise<void>> = [];
  const stop = async () => {
    stopped = true;
    for (const current of launched.splice(0).reverse()) {
      const proc = current();
      if (!proc) continue;
      await stopProcess(proc, true);
      await within(logWritten.get(proc), 2_000);
    }
    for (const after of afterServers.splice(0).reverse()) await after();
  };

  try {
    // A versioned worker gets no task until its build is Current: on this private stack every worker promotes its own
    // build when it starts (a production fleet is promoted by an operator; docs/deploying.md).
    const env: Record<string, string> = {
      LISTING_SYNC_DATA_DIR: dataDir,
      WORKER_PROMOTE_ON_START: source.WORKER_PROMOTE_ON_START ?? 'true',
    };

    // Temporal
    let temporalAddress = source.TEMPORAL_ADDRESS ?? '';
    let uiUrl: string | null = source.TEMPORAL_UI_URL ?? null;
    let temporalCliPath: string | null =
      source.TEMPORAL_CLI_PATH ??
      which('temporal') ??
      (existsSync(join(TOOLS, 'temporal')) ? join(TOOLS, 'temporal') : null);
    if (temporalAddress) {
      const address = temporalAddress;
      await waitFor(`Temporal at ${address}`, null, 30_000, () => temporalServing(address));
    } else {
      temporalCliPath = temporalBinary(log);
      const local = opts.mode === 'local';
      const port = await pickPort(source, 'TEMPORAL_PORT', local ? 7233 : null);
      const uiPort = await pickPort(source, 'TEMPORAL_UI_PORT', local ? 8233 : null);
      const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
      // Left to itself the dev server derives its HTTP API port from the frontend's and fails when that is taken.
      const httpPort = await freePort();
      args.push('--http-port', String(httpPort));
      // Temporal's HTTP API, as app code in another language calls it (docs/app-contract.md).
      env.TEMPORAL_HTTP_URL = `http://127.0.0.1:${httpPort}`;
      args.push('--namespace', 'default', '--log-level', 'warn');
      for (const key of SEARCH_ATTRIBUTES) {
        args.push('--search-attribute', `${key.name}=${CLI_SEARCH_ATTRIBUTE_TYPES[key.type] ?? key.type}`);
      }
      // Lets a test query a search attribute right after the server registered it.
      args.push('--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true');
      // A version that stopped being Current reports drained within seconds of its last pinned run closing, not minutes
      // (both default to 3 minutes): the deploy drill waits for it, and so does a person trying the runbook locally.
      args.push('--dynamic-config-value', 'matching.wv.VersionDrainageStatusVisibilityGracePeriod="2s"');
      args.push('--dynamic-config-value', 'matching.wv.VersionDrainageStatusRefreshInterval="2s"');
      if (local || opts.persistentTemporal) args.push('--db-filename', join(dataDir, 'temporal.db'));
      const address = `127.0.0.1:${port}`;
      const ui = `http://127.0.0.1:${uiPort}/`;
      await serve('temporal', 'temporal', temporalCliPath, args, async (proc, file) => {
        await waitFor('Temporal dev server', file, 60_000, () => temporalServing(address), proc);
        await waitFor('Temporal Web UI', file, 30_000, async () => (await fetch(ui)).status === 200, proc);
      });
      temporalAddress = address;
      uiUrl = `http://127.0.0.1:${uiPort}`;
    }
    env.TEMPORAL_ADDRESS = temporalAddress;
    env.TEMPORAL_NAMESPACE = source.TEMPORAL_NAMESPACE ?? 'default';
    if (uiUrl) env.TEMPORAL_UI_URL = uiUrl;
    if (temporalCliPath) env.TEMPORAL_CLI_PATH = temporalCliPath;

    // MongoDB wire server
    const dbName = opts.mode === 'test' ? 'listing_sync_test' : 'listing_sync';
    let mongoUri = source.MONGODB_URI ?? '';
    if (!mongoUri) {
      const port = await pickPort(source, 'MONGO_PORT', opts.mode === 'local' ? 27017 : null);
      const mongod = which('mongod');
      const uri = `mongodb://127.0.0.1:${port}/${dbName}`;
      const what = mongod ? 'mongod' : 'FerretDB';
      const pinged = async () => {
        const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 1_000 }).connect();
        try {
          const reply = await client.db(dbName).command({ ping: 1 });
          return reply.ok === 1;
        } finally {
          await client.close();
        }
      };
      const healthy = (proc: ChildProcess, file: string) => waitFor(what, file, 60_000, pinged, proc);
      if (mongod) {
        const dbPath = join(dataDir, 'mongod');
        mkdirSync(dbPath, { recursive: true });
        const args = ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1'];
        await serve('mongo', 'mongod', mongod, args, healthy);
      } else if (localStore(source) === 'postgresql') {
        // FerretDB on PostgreSQL, the default: filters on indexed fields are answered from indexes, so figures scale
        // with a team's rows rather than the collection's, as on MongoDB (docs/performance.md). PostgreSQL outlives
        // FerretDB restarts (the crash tests kill FerretDB, not its storage).
        // PostgreSQL's own log goes to its file beside the others', not to the terminal.
        const pgLog = createWriteStream(join(logs, 'postgres.log'), { flags: 'a' });
        const pg = await startPostgres({
          dataDir,
          port: await freePort(),
          log,
          serverLog: (line) => pgLog.write(`${line}\n`),
        });
        afterServers.push(async () => new Promise<void>((r) => pgLog.end(r)));
        afterServers.push(() => pg.stop());
        const args = ['--listen-addr', `127.0.0.1:${port}`, '--handler=postgresql', `--postgresql-url=${pg.url}`];
        await serve('mongo', 'ferretdb', ferretBinary(log), args, healthy);
      } else {
        const sqliteDir = join(dataDir, 'ferretdb');
        mkdirSync(sqliteDir, { recursive: true });
        const args = ['--listen-addr', `127.0.0.1:${port}`, '--sqlite-dir', sqliteDir];
        await serve('mongo', 'ferretdb', ferretBinary(log), args, healthy);
      }
      mongoUri = uri;
    }
    env.MONGODB_URI = mongoUri;

    // AWS emulator
    let emulatorUrl: string | null = null;
    if (source.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG) {
      env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = source.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG;
      if (source.AWS_ENDPOINT_URL_STS) env.AWS_ENDPOINT_URL_STS = source.AWS_ENDPOINT_URL_STS;
      if (source.EMULATOR_ADMIN_URL) env.EMULATOR_ADMIN_URL = source.EMULATOR_ADMIN_URL;
    } else {
      if (!existsSync(join(ROOT, 'emulator', 'main.ts'))) {
        throw new StackError(
          'emulator/main.ts is missing; set AWS_ENDPOINT_URL_MARKETPLACE_CATALOG (and AWS_ENDPOINT_URL_STS) to use another endpoint',
        );
      }
      const port = await pickPort(source, 'EMULATOR_PORT', opts.mode === 'local' ? 4599 : null);
      const args = ['--import', 'tsx', 'emulator/main.ts', '--port', String(port)];
      if (opts.mode === 'local') args.push('--data', 'emulator/data/demo-catalog.json');
      const url = `http://127.0.0.1:${port}`;
      await serve('emulator', 'emulator', process.execPath, args, (proc, file) =>
        waitFor('AWS emulator', file, 30_000, async () => (await fetch(`${url}/_emulator/health`)).ok, proc),
      );
      emulatorUrl = url;
      env.AWS_ENDPOINT_URL_STS = url;
      env.AWS_ENDPOINT_URL_MARKETPLACE_CATALOG = url;
      env.EMULATOR_ADMIN_URL = url;
      // The vendor's own base credentials, which the emulator expects; real ones in the environment win.
      if (!source.AWS_ACCESS_KEY_ID) {
        env.AWS_ACCESS_KEY_ID = 'AKIALISTINGSYNCLOCAL';
        env.AWS_SECRET_ACCESS_KEY = 'local-vendor-secret';
      }
    }
    env.AWS_REGION = source.AWS_REGION ?? 'us-east-1';

    // SQS-compatible server for Catalog events
    let sqsEndpoint: string | null = source.AWS_ENDPOINT_URL_SQS ?? null;
    if (sqsEndpoint) {
      env.AWS_ENDPOINT_URL_SQS = sqsEndpoint;
      if (source.SQS_PROTOCOL) env.SQS_PROTOCOL = source.SQS_PROTOCOL;
    } else {
      const port = await pickPort(source, 'SQS_PORT', opts.mode === 'local' ? 4100 : null);
      const configFile = join(dataDir, 'goaws.yaml');
      writeFileSync(
        configFile,
        [
          'Local:',
          '  Host: 127.0.0.1',
          `  Port: ${port}`,
          `  Region: ${env.AWS_REGION}`,
          '  AccountId: "000000000000"',
          '  LogToFile: false',
          '  QueueAttributeDefaults:',
          '    VisibilityTimeout: 30',
          '    ReceiveMessageWaitTimeSeconds: 0',
          '  Queues: []',
          '  Topics: []',
          '',
        ].join('\n'),
      );
      const url = `http://127.0.0.1:${port}`;
      await serve('sqs', 'goaws', goawsBinary(log), ['-config', configFile, 'Local'], (proc, file) =>
        waitFor('goaws (SQS)', file, 30_000, async () => (await fetch(`${url}/?Action=ListQueues`)).ok, proc),
      );
      sqsEndpoint = url;
      env.AWS_ENDPOINT_URL_SQS = url;
      env.SQS_PROTOCOL = 'query';
    }
    // The local run's worker polls a queue of its own, on the server the stack started (never on an SQS it was
    // pointed at, which may be AWS); tests make one per test instead.
    if (opts.mode === 'local' && !source.EVENTS_QUEUE_URL && !source.AWS_ENDPOINT_URL_SQS) {
      const accessKeyId = env.AWS_ACCESS_KEY_ID ?? source.AWS_ACCESS_KEY_ID;
      const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? source.AWS_SECRET_ACCESS_KEY;
      const sqs = createSqsClient({
        region: env.AWS_REGION,
        protocol: env.SQS_PROTOCOL === 'query' ? 'query' : 'json',
        endpoint: sqsEndpoint,
        ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
      });
      try {
        const queues = await createEventQueues(sqs, sqsEndpoint, LOCAL_EVENT_QUEUE);
        env.EVENTS_QUEUE_URL = queues.queueUrl;
        env.EVENTS_DLQ_URL = queues.deadLetterQueueUrl;
      } finally {
        sqs.destroy();
      }
    }

    return { env, temporalAddress, uiUrl, mongoUri, emulatorUrl, sqsEndpoint, temporalCliPath, servers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<number> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode !== 'test' && mode !== 'local' && mode !== 'exec') {
    console.error('usage: stack.ts test [mocha args...] | local | exec <command...>');
    return 2;
  }
  const started = Date.now();
  // Test and exec runs get a directory of their own, so two runs at once never share (or delete) each other's servers.
  const dataDir = resolve(
    ROOT,
    mode === 'local' ? '.data/local' : join(`.data/${mode === 'test' ? 'test-run' : 'exec'}`, String(process.pid)),
  );
  if (mode !== 'local') rmSync(dataDir, { recursive: true, force: true });

  const children: ChildProcess[] = [];
  let stack: Stack | null = null;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (mode === 'local') console.log('Stopping the worker and the servers...');
    await Promise.all(children.map((c) => stopProcess(c, false)));
    if (stack) await stack.stop();
    // A signal during start-up: stack is not there yet, but its servers are.
    await Promise.all([...running].map((c) => stopProcess(c, true)));
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  process.on('SIGHUP', () => void shutdown(129));

  try {
    stack = await startStack({ mode: mode === 'local' ? 'local' : 'test', dataDir });
  } catch (err) {
    console.error(`\nThe local stack did not start: ${(err as Error).message}`);
    await shutdown(1);
    return 1;
  }
  if (stopping) return new Promise<number>(() => undefined);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `Stack up in ${seconds} s: Temporal ${stack.temporalAddress}, UI ${stack.uiUrl ?? '-'}, MongoDB ${stack.mongoUri}, AWS emulator ${stack.emulatorUrl ?? 'external'}, SQS ${stack.sqsEndpoint ?? '-'} (logs in ${relative(ROOT, join(dataDir, 'logs'))}/)`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env };
  // So `npx listing-sync …` in another shell reaches this stack: `set -a; . .data/local/cli.env; set +a`.
  if (mode === 'local') {
    writeFileSync(
      join(dataDir, 'cli.env'),
      Object.entries(stack.env)
        .map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'\n`)
        .join(''),
      { mode: 0o600 },
    );
  }
  // The AWS SDK's notice that its 2027 releases need Node 22 would repeat in every test process; README says it once.
  if (mode === 'test') env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const run = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; output?: string } = {}) =>
    new Promise<number>((resolveRun) => {
      // Output to a file (a lane that runs beside another) or to the terminal.
      const fd = opts.output ? openSync(opts.output, 'w') : undefined;
      const stdio: StdioOptions = fd === undefined ? 'inherit' : ['ignore', fd, fd];
      const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? env, stdio });
      if (fd !== undefined) closeSync(fd);
      children.push(child);
      child.once('error', (err) => {
        console.error(`${cmd}: ${err.message}`);
        resolveRun(127);
      });
      child.once('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)));
    });

  if (mode === 'test') {
    const mocha = join(ROOT, 'node_modules', '.bin', 'mocha');
    // The whole suite runs in lanes (scripts/test-lanes.ts); files or options given run as given, in one process.
    const code =
      rest.length > 0 ? await run(mocha, rest) : await runLanes((args, opts) => run(mocha, args, opts), env, dataDir);
    await shutdown(code);
    return 0;
  }
  if (mode === 'exec') {
    const [cmd, ...args] = rest;
    await shutdown(cmd ? await run(cmd, args) : 2);
    return 0;
  }

  const banner = () =>
    console.log(`\n  Temporal Web UI: ${stack?.uiUrl ?? '(external server)'}\n  Ctrl-C to stop everything.\n`);
  if (!existsSync(join(ROOT, 'src', 'worker', 'main.ts'))) {
    console.log('src/worker/main.ts is not there yet: only the servers run.');
    banner();
    return new Promise<number>(() => undefined);
  }
  const workerLogFile = join(dataDir, 'logs', 'worker.log');
  const workerLog = createWriteStream(workerLogFile, { flags: 'a' });
  const worker = spawn(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', 'src/worker/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(worker);
  for (const stream of [worker.stdout, worker.stderr]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      workerLog.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) console.log(`[worker] ${line}`);
    });
  }
  worker.once('exit', (code) => {
    if (!stopping) {
      console.error(`The worker exited (code ${code}); see ${workerLogFile}`);
      void shutdown(1);
    }
  });
  if (existsSync(join(ROOT, 'scripts', 'demo-sync.ts'))) {
    const demo = await run(process.execPath, ['--import', 'tsx', 'scripts/demo-sync.ts']);
    if (!stopping) console.log(demo === 0 ? 'The demo sync finished.' : `The demo sync failed (exit ${demo}).`);
  }
  if (!stopping) banner();
  return new Promise<number>(() => undefined);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
