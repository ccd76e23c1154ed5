import { MarketplaceCatalogClient } from '@aws-sdk/client-marketplace-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { RoleSessions } from '../activities/role-sessions.ts';
import { ensureIndexes } from '../store/index.ts';
import type { Config } from '../config.ts';
import type { SyncMetrics } from '../activities/metrics.ts';
import { deploymentOptions, loadWorkflowCode, promoteWhenPolling, type WorkerVersion } from './deployment.ts';

export interface WorkerResources {
  mongo: MongoClient;
  deps: ActivityDeps;
  close(): Promise<void>;
}

/**
 * Every client the activities use, built once per worker process. The AWS clients find their endpoints
 * through the SDK's own configuration (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_MARKETPLACE_CATALOG,
 * profiles, region), so there is no local-only code path here.
 */
export async function createWorkerResources(
  config: Config,
  opts: { metrics?: SyncMetrics; mongoOptions?: MongoClientOptions } = {},
): Promise<WorkerResources> {
  const mongo = await new MongoClient(config.mongo.uri, opts.mongoOptions).connect();
  const db = mongo.db(config.mongo.dbName);
  await ensureIndexes(db);
  const { region, requestTimeoutMs, connectTimeoutMs, maxAttempts } = config.aws;
  // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes and keeps waiting.
  const requestHandler = {
    requestTimeout: requestTimeoutMs,
    connectionTimeout: connectTimeoutMs,
    throwOnRequestTimeout: true,
  };
  const sts = new STSClient({ region, maxAttempts, requestHandler });
  const sessions = new RoleSessions(config.worker.roleSessionCacheSize, () => Date.now());
  const deps: ActivityDeps = {
    db,
    sts,
    sessions,
    clock: () => new Date(),
    catalogClient: (credentials) => new MarketplaceCatalogClient({ region, credentials, maxAttempts, requestHandler }),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  };
  return {
    mongo,
    deps,
    async close() {
      sessions.clear();
      sts.destroy();
      await mongo.close();
    },
  };
}

export interface VersionedWorker {
  worker: Worker;
  /** The deployment version this worker polls as (also when versioning is off: it names the build). */
  version: WorkerVersion;
}

/**
 * A worker of this build. With versioning on (the default) it polls as `deployment:buildId` and gets workflow
 * tasks only while its version is Current or Ramping; `promoteOnStart` (local stack and tests) makes it Current.
 */
export async function createWorker(
  config: Config,
  connection: NativeConnection,
  deps: ActivityDeps,
  prebuilt?: { code: string },
  plugins: WorkerOptions['plugins'] = [],
): Promise<VersionedWorker> {
  const { code, version } = await loadWorkflowCode(config, plugins, prebuilt);
  const worker = await Worker.create({
    plugins,
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: { code },
    ...deploymentOptions(config, version),
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentLocalActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    workflowThreadPoolSize: config.worker.workflowThreads,
  });
  return { worker, version };
}

/**
 * Runs `worker` and, when configured to (local stack, tests), promotes its version once its pollers are seen.
 * A failed promotion stops the worker: a versioned worker that is not Current would sit idle without saying why.
 */
export async function runPromoted<T>(
  config: Config,
  connection: NativeConnection,
  { worker, version }: VersionedWorker,
  until?: Promise<T>,
): Promise<T | undefined> {
  const promote =
    config.temporal.deployment.useVersioning && config.temporal.deployment.promoteOnStart
      ? promoteWhenPolling(connection.workflowService, config.temporal.namespace, version).catch((err: unknown) => {
          worker.shutdown();
          throw err;
        })
      : Promise.resolve();
  const [result] = await Promise.all([until ? worker.runUntil(until) : worker.run().then(() => undefined), promote]);
  return result;
}
