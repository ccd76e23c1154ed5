/**
 * A disposable local PostgreSQL server, for FerretDB's PostgreSQL handler (tools/ferretdb --handler=postgresql).
 *
 * Uses Debian's PostgreSQL (`/usr/lib/postgresql/<version>/bin`, the newest version there) or one on PATH; installs
 * Debian's `postgresql` package when neither exists and this process is root. The cluster lives in
 * `<dataDir>/postgres` (created by initdb on first use), listens on 127.0.0.1 only, and keeps its unix socket inside
 * that directory, so nothing touches /var/run/postgresql or the package's own cluster.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface PostgresOptions {
  /** The cluster goes to `<dataDir>/postgres`; an existing cluster there is reused. */
  dataDir: string;
  port: number;
  /** Progress of this script (installing, initdb), for the terminal. */
  log: (line: string) => void;
  /** The server's own output, line by line (default: `log`). */
  serverLog?: (line: string) => void;
  /**
   * PostgreSQL's max_connections (default 500). FerretDB's pool must stay below it: tools/ferretdb uses 400
   * (--postgresql-pool) because FerretDB v1.24.2 deadlocks once concurrent update commands hold its whole pool.
   */
  maxConnections?: number;
  /** The database created for FerretDB (default `ferretdb`). */
  database?: string;
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`: trust authentication, loopback only. */
  url: string;
  /** Stops the server (SIGINT: PostgreSQL's fast shutdown) and resolves once it has exited. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
// sockaddr_un.sun_path is 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH = 107;

interface Binaries {
  dir: string;
  initdb: string;
  postgres: string;
  pgCtl: string;
  psql: string;
  version: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binariesIn(dir: string): Binaries | null {
  const [initdb, postgres, pgCtl, psql] = ['initdb', 'postgres', 'pg_ctl', 'psql'].map((b) => join(dir, b));
  if (!initdb || !postgres || !pgCtl || !psql || ![initdb, postgres, pgCtl, psql].every(executable)) return null;
  const out = spawnSync(postgres, ['--version'], { encoding: 'utf8' });
  // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the cluster format changes with the major version.
  const version = /\(PostgreSQL\) (\d+)/.exec(out.stdout ?? '')?.[1];
  return version ? { dir, initdb, postgres, pgCtl, psql, version } : null;
}

function findBinaries(): Binaries | null {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const found = binariesIn(join(debian, v, 'bin'));
    if (found) return found;
  }
  // PATH entries may hold symlinks into the real bin directory (Debian puts only client wrappers on PATH).
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !executable(join(dir, 'initdb'))) continue;
    const found = binariesIn(dir);
    if (found) return found;
  }
  return null;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Debian's package, installed quietly like scripts/test.sh installs chromium (apt-get update only if needed). */
function installPostgres(log: (line: string) => void): void {
  if (!isRoot() || !executable('/usr/bin/apt-get')) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb, none on PATH); install it, e.g. `apt-get install postgresql`',
    );
  }
  log("Installing Debian's postgresql package (first run only, about 15 s)...");
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: 'ignore', env }).status === 0;
  const install = ['install', '-y', '-q', '--no-install-recommends', 'postgresql'];
  if (!apt(install) && !(apt(['update', '-q']) && apt(install))) {
    throw new Error("Could not install Debian's postgresql package (apt-get install -y postgresql failed)");
  }
  log(`Installed PostgreSQL in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * initdb and postgres refuse to run as root (a superuser-owned server process could be turned against the whole
 * machine). As root, they run as the `postgres` account the Debian package creates, and the cluster directory is
 * owned by it. `setpriv` execs in place (unlike runuser, which stays as a parent and turns every signal into
 * SIGTERM, PostgreSQL's "smart" shutdown that waits for clients), so our SIGINT reaches postgres itself.
 */
interface RunAs {
  uid: number;
  gid: number;
  wrap(cmd: string, args: string[]): [string, string[]];
}

function runAs(): RunAs | null {
  if (!isRoot()) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${SUPERUSER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'Running as root, and there is no `postgres` user to run PostgreSQL as (the Debian package creates it)',
    );
  }
  return {
    uid: Number(uid),
    gid: Number(gid),
    wrap: (cmd, args) => [
      'setpriv',
      [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--reset-env', '--', cmd, ...args],
    ],
  };
}

/** The `postgres` user must be able to reach the cluster directory: a root-only parent (e.g. /root) makes initdb fail. */
function checkReachable(dir: string): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the \`postgres\` user here (root may not run it), and ${d} is not searchable by other users: put the data directory elsewhere (e.g. under /tmp) or chmod o+x ${d}`,
      );
    }
    if (d === dirname(d)) return;
  }
}

function run(cmd: string, args: string[], what: string, user: RunAs | null): string {
  const [c, a] = user ? user.wrap(cmd, args) : [cmd, args];
  const out = spawnSync(c, a, { encoding: 'utf8' });
  if (out.status !== 0) {
    throw new Error(`${what} failed (exit ${out.status ?? out.signal}): ${(out.stderr || out.stdout || '').trim()}`);
  }
  return out.stdout;
}

export async function startPostgres(opts: PostgresOptions): Promise<PostgresServer> {
  const { log, port } = opts;
  const database = opts.database ?? 'ferretdb';
  const maxConnections = opts.maxConnections ?? 500;
  let bins = findBinaries();
  if (!bins) {
    installPostgres(log);
    bins = findBinaries();
    if (!bins) throw new Error('PostgreSQL was installed but its binaries were not found under /usr/lib/postgresql');
  }
  const user = runAs();
  const pgdata = join(resolve(opts.dataDir), 'postgres');
  mkdirSync(dirname(pgdata), { recursive: true });
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (user) {
    checkReachable(pgdata);
    chownSync(pgdata, user.uid, user.gid);
  }

  const versionFile = join(pgdata, 'PG_VERSION');
  if (!existsSync(versionFile)) {
    log(`Creating a PostgreSQL ${bins.version} cluster in ${pgdata} (first run only)...`);
    const started = Date.now();
    // Trust authentication: the server listens on 127.0.0.1 only and holds disposable local data.
    run(
      bins.initdb,
      ['-D', pgdata, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      'initdb',
      user,
    );
    log(`initdb took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    const version = readFileSync(versionFile, 'utf8').trim();
    if (version !== bins.version) {
      throw new Error(
        `${pgdata} holds a PostgreSQL ${version} cluster but the binaries found are version ${bins.version} (${bins.dir}); delete the directory to start afresh`,
      );
    }
  }

  // The socket goes inside the cluster directory; if that path is too long for a unix socket, TCP only.
  const socketDir = join(pgdata, `.s.PGSQL.${port}`).length <= MAX_SOCKET_PATH ? pgdata : '';
  const args = [
    '-D',
    pgdata,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${socketDir}`,
    '-c',
    `max_connections=${maxConnections}`,
    // A disposable local store (the stack's and the tests' data): durability is traded for speed. A crash of
    // the machine (not of the process) can corrupt the cluster; delete <dataDir>/postgres then.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'log_destination=stderr',
    '-c',
    'logging_collector=off',
  ];
  const [cmd, cmdArgs] = user ? user.wrap(bins.postgres, args) : [bins.postgres, args];
  // Its own process group, like the stack's other servers: a Ctrl-C in the terminal must not stop it before the
  // worker has drained. If this process exits without stop(), the exit hook still asks it to shut down.
  const proc: ChildProcess = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const onExit = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
  };
  process.once('exit', onExit);
  const exited = new Promise<void>((r) =>
    proc.once('exit', () => {
      process.removeListener('exit', onExit);
      r();
    }),
  );
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) (opts.serverLog ?? log)(line);
    });
  }
  const spawnError = new Promise<Error>((r) => proc.once('error', r));
  const running = () => proc.exitCode === null && proc.signalCode === null;

  const stop = async (): Promise<void> => {
    if (!running()) return;
    proc.kill('SIGINT'); // fast shutdown: rolls back open transactions, disconnects clients, checkpoints
    // The timer is cancelled once postgres exits, so it does not hold the caller's event loop open.
    const timer = new AbortController();
    const result = await Promise.race([
      exited.then(() => 'exited'),
      delay(STOP_TIMEOUT_MS, 'timeout', { signal: timer.signal }).catch(() => 'exited'),
    ]);
    timer.abort();
    if (result === 'timeout') {
      log(`PostgreSQL did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGINT; sending SIGQUIT`);
      proc.kill('SIGQUIT');
      await exited;
    }
  };

  const psql = (sql: string, db = 'postgres') =>
    spawnSync(bins.psql, ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, '-d', db, '-XtAq', '-c', sql], {
      encoding: 'utf8',
      env: { ...process.env, PGCONNECT_TIMEOUT: '2' },
    });
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (!running()) throw new Error(`PostgreSQL exited during start-up (code ${proc.exitCode ?? proc.signalCode})`);
      const failed = await Promise.race([spawnError, Promise.resolve(null)]);
      if (failed) throw new Error(`Could not start PostgreSQL: ${failed.message}`);
      if (psql('SELECT 1').status === 0) break;
      if (Date.now() > deadline)
        throw new Error(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS / 1000} s`);
      await delay(100);
    }
    const exists = psql(`SELECT 1 FROM pg_database WHERE datname = '${database.replaceAll("'", "''")}'`);
    if (exists.stdout.trim() !== '1') {
      const created = psql(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      if (created.status !== 0) throw new Error(`CREATE DATABASE ${database} failed: ${created.stderr.trim()}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `postgres://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(database)}`, stop };
}
