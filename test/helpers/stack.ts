import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { MongoClient, type Db } from 'mongodb';
import { loadConfig, type Config } from '../../src/config.ts';
import {
  createWorker,
  createWorkerResources,
  runPromoted,
  type WorkerResources,
} from '../../src/worker/create-worker.ts';
import type { ActivityDeps } from '../../src/activities/index.ts';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code is bundled once per test run; every worker in every test reuses it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: new URL('../../src/workflows/index.ts', import.meta.url).pathname,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}

let taskQueues = 0;
export function uniqueTaskQueue(name: string): string {
  taskQueues += 1;
  return `test-${name}-${process.pid}-${taskQueues}-${Date.now()}`;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  assert.ok(process.env.TEMPORAL_ADDRESS && process.env.MONGODB_URI, 'run the tests through scripts/test.sh');
  return loadConfig({ ...process.env, ...overrides });
}

export interface TestStack {
  config: Config;
  client: Client;
  db: Db;
  mongo: MongoClient;
  close(): Promise<void>;
}

export async function openStack(): Promise<TestStack> {
  const config = testConfig();
  const connection = await Connection.connect(config.temporal.connection);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const mongo = await new MongoClient(config.mongo.uri).connect();
  return {
    config,
    client,
    mongo,
    db: mongo.db(config.mongo.dbName),
    async close() {
      await connection.close();
      await mongo.close();
    },
  };
}

/** Runs a real worker on its own task queue for the duration of `fn`. */
export async function withWorker<T>(
  taskQueue: string,
  fn: (resources: WorkerResources) => Promise<T>,
  opts: { env?: Record<string, string>; deps?: (deps: ActivityDeps) => ActivityDeps } = {},
): Promise<T> {
  // Tests run workers of this build on task queues of their own and make the build Current, as the local stack does.
  const config = testConfig({ WORKER_PROMOTE_ON_START: 'true', ...opts.env, TEMPORAL_TASK_QUEUE: taskQueue });
  const resources = await createWorkerResources(config);
  if (opts.deps) resources.deps = opts.deps(resources.deps);
  const connection = await NativeConnection.connect(config.temporal.connection);
  try {
    const versioned = await createWorker(config, connection, resources.deps, await workflowBundle());
    return (await runPromoted(config, connection, versioned, fn(resources))) as T;
  } finally {
    await connection.close();
    await resources.close();
  }
}

export interface IsolatedDb {
  db: Db;
  uri: string;
  close(): Promise<void>;
}

/** A database of its own, for tests (and scripts) whose workflows read every connection in their database. */
export async function isolatedDb(stack: Pick<TestStack, 'config'>, name: string): Promise<IsolatedDb> {
  const dbName = `${stack.config.mongo.dbName}_${name}_${Date.now()}`;
  const url = new URL(stack.config.mongo.uri);
  url.pathname = `/${dbName}`;
  const mongo = await new MongoClient(url.toString()).connect();
  return { db: mongo.db(dbName), uri: url.toString(), close: () => mongo.close() };
}
