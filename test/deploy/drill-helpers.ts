import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';

// A CommonJS module: its namespaces are properties of the default export under Node's ESM loader.
const { EventType, VersioningBehavior, WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

const live = new Set<ChildProcess>();
let exitHook = false;

/**
 * A compiled worker process (`node dist/worker/main.js`) of one build, its output kept in a log file. The build id
 * is the one the worker itself logs in its 'Worker started' line, so the drill never computes it on its own.
 */
export class WorkerProcess {
  buildId = '';
  private proc: ChildProcess | null = null;
  private log: WriteStream | null = null;
  private lines: string[] = [];
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  /** Spawns the worker and resolves with its build id once it logs 'Worker started'. */
  async start(timeoutMs = 60_000): Promise<string> {
    if (!exitHook) {
      exitHook = true;
      // mocha --exit, or a failed hook: no worker may outlive the test process.
      process.on('exit', () => {
        for (const proc of live) proc.kill('SIGKILL');
      });
    }
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    const proc = spawn(process.execPath, [this.script], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    live.add(proc);
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        this.lines.push(`[exited: ${code ?? signal}]`);
        resolve();
      }),
    );
    let partial = '';
    const take = (chunk: Buffer) => {
      this.log?.write(chunk);
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        if (this.lines.length > 400) this.lines.shift();
        if (!this.buildId && line.includes('"Worker started"')) {
          const { buildId } = JSON.parse(line) as { buildId?: unknown };
          this.buildId = typeof buildId === 'string' ? buildId : '';
        }
      }
    };
    proc.stdout.on('data', take);
    proc.stderr.on('data', take);
    const deadline = Date.now() + timeoutMs;
    while (!this.buildId) {
      if (!this.running) throw new Error(`worker ${this.name} exited before it started:\n${this.tail(30)}`);
      if (Date.now() > deadline)
        throw new Error(`worker ${this.name} did not start in ${timeoutMs} ms:\n${this.tail(30)}`);
      await delay(100);
    }
    return this.buildId;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last lines the worker printed. */
  tail(n = 20): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Lines that match `pattern`, of what is still kept in memory. */
  grep(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }

  /** SIGTERM (the worker drains its tasks), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const proc = this.proc;
    if (proc && this.running) {
      proc.kill('SIGTERM');
      const abort = new AbortController();
      await Promise.race([this.exited, delay(graceMs, undefined, { signal: abort.signal }).catch(() => undefined)]);
      abort.abort();
      if (this.running) {
        proc.kill('SIGKILL');
        await this.exited;
      }
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = null;
  }
}

/** What one run's history says about where it ran. */
export interface RunFacts {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startedAt: number;
  closedAt: number | null;
  /** The parent's workflow id (a SyncAll chain's child), null for a run started by a client or by continue-as-new. */
  parentWorkflowId: string | null;
  /** The run this one continued, if it was started by continue-as-new. */
  continuedFrom: string | null;
  /** The build that completed each workflow task, in order. */
  builds: string[];
  /** When each of those tasks completed. */
  taskTimes: number[];
  /** Each WorkflowTaskFailed event, named with its cause and message. */
  taskFailures: string[];
  /** The patch ids of the run's patch markers. */
  patches: string[];
}

const decode = (data: Uint8Array | string | null | undefined): string =>
  data == null
    ? ''
    : typeof data === 'string'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(data).toString();

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

/** Which build completed a workflow task: Server 1.29 fills deploymentVersion; the deprecated fields are fallbacks. */
export function buildOfTask(
  attrs: temporal.api.history.v1.IWorkflowTaskCompletedEventAttributes | null | undefined,
): string {
  return (
    attrs?.deploymentVersion?.buildId ||
    attrs?.workerVersion?.buildId ||
    attrs?.workerDeploymentVersion?.split('.').slice(1).join('.') ||
    '(unversioned)'
  );
}

/** The facts of one run (`runId` undefined: the workflow's latest run). */
export async function runFacts(
  client: Client,
  workflowId: string,
  runId: string | undefined,
  type: string,
): Promise<RunFacts> {
  const actualRunId = runId ?? (await client.workflow.getHandle(workflowId).describe()).runId;
  const history = await client.workflow.getHandle(workflowId, actualRunId).fetchHistory();
  const facts: RunFacts = {
    workflowId,
    runId: actualRunId,
    type,
    status: 'RUNNING',
    startedAt: 0,
    closedAt: null,
    parentWorkflowId: null,
    continuedFrom: null,
    builds: [],
    taskTimes: [],
    taskFailures: [],
    patches: [],
  };
  for (const event of history.events ?? []) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const a = event.workflowExecutionStartedEventAttributes;
        facts.startedAt = millis(event.eventTime);
        facts.parentWorkflowId = a?.parentWorkflowExecution?.workflowId || null;
        facts.continuedFrom = a?.continuedExecutionRunId || null;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        facts.builds.push(buildOfTask(event.workflowTaskCompletedEventAttributes));
        facts.taskTimes.push(millis(event.eventTime));
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: {
        const a = event.workflowTaskFailedEventAttributes;
        const cause = WorkflowTaskFailedCause[a?.cause ?? 0] ?? String(a?.cause);
        facts.taskFailures.push(
          `${type} ${workflowId} run ${actualRunId} event ${String(event.eventId)}: ${cause}: ${a?.failure?.message ?? ''}`,
        );
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const a = event.markerRecordedEventAttributes;
        if (a?.markerName !== 'core_patch') break;
        // Core writes {"id", "deprecated"} as JSON under "patch-data"; older markers had the id's bytes under "patch_id".
        const json = a.details?.['patch-data']?.payloads?.[0]?.data;
        if (json) {
          const { id } = JSON.parse(decode(json)) as { id?: unknown };
          facts.patches.push(typeof id === 'string' ? id : JSON.stringify(id));
        } else facts.patches.push(decode(a.details?.patch_id?.payloads?.[0]?.data));
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        facts.status = 'COMPLETED';
        facts.closedAt = millis(event.eventTime);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        facts.status = 'CONTINUED_AS_NEW';
        facts.closedAt = millis(event.eventTime);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        facts.status = EventType[event.eventType].replace('EVENT_TYPE_WORKFLOW_EXECUTION_', '');
        facts.closedAt = millis(event.eventTime);
        break;
      default:
    }
  }
  return facts;
}

/** Every run the visibility query finds, a few histories at a time. */
export async function allRunFacts(client: Client, query: string, parallel = 8): Promise<RunFacts[]> {
  const listed: Array<{ workflowId: string; runId: string; type: string }> = [];
  for await (const info of client.workflow.list({ query })) {
    listed.push({ workflowId: info.workflowId, runId: info.runId, type: info.type });
  }
  const facts: RunFacts[] = [];
  for (let i = 0; i < listed.length; i += parallel) {
    facts.push(
      ...(await Promise.all(listed.slice(i, i + parallel).map((r) => runFacts(client, r.workflowId, r.runId, r.type)))),
    );
  }
  return facts;
}

/** The build a run is pinned to (describe's versioning info), or null while it is not pinned. */
export async function pinnedBuild(client: Client, workflowId: string, runId: string): Promise<string | null> {
  const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  if (info?.behavior !== VersioningBehavior.VERSIONING_BEHAVIOR_PINNED) return null;
  return info.deploymentVersion?.buildId || null;
}

/** Polls until `fn` resolves without throwing; its last error is thrown once `timeoutMs` has passed. */
export async function retrying<T>(
  timeoutMs: number,
  fn: () => Promise<T>,
  intervalMs = 500,
): Promise<{ value: T; attempts: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts += 1) {
    try {
      return { value: await fn(), attempts };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(intervalMs);
    }
  }
}
