import type { Db } from 'mongodb';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, type LogEntry } from '@temporalio/worker';
import { ListingSyncClient } from '../client/index.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { EventPoller } from '../events/event-poller.ts';
import { sqsClientFromConfig } from '../events/sqs.ts';
import { eventMetrics, runtimeMetrics } from './runtime-metrics.ts';
import { createWorker, createWorkerResources, runPromoted } from './create-worker.ts';
import { tracingFromEnv } from './tracing.ts';

/** Errors have no enumerable fields: JSON.stringify prints `{}`. A failure's type and message are what an operator needs. */
function loggable(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { type, cause } = value as Error & { type?: unknown };
  return {
    name: value.name,
    ...(typeof type === 'string' ? { type } : {}),
    message: value.message,
    ...(cause instanceof Error ? { cause: loggable(cause) } : {}),
  };
}

function jsonLine(entry: LogEntry): void {
  const { level, message, meta, timestampNanos } = entry;
  const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
  const fields = Object.fromEntries(Object.entries(meta ?? {}).map(([k, v]) => [k, loggable(v)]));
  process.stdout.write(`${JSON.stringify({ time, level, message, ...fields })}\n`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({
    logger: new DefaultLogger(config.worker.logLevel, jsonLine),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(config.worker.metricsBindAddress
        ? { metrics: { prometheus: { bindAddress: config.worker.metricsBindAddress } } }
        : {}),
    },
  });
  const log = Runtime.instance().logger;
  const tracing = tracingFromEnv();
  if (tracing && config.worker.workflowBundlePath) {
    throw new ConfigError(
      'Tracing needs its interceptors in the workflow bundle: unset WORKFLOW_BUNDLE_PATH to bundle at start',
    );
  }
  const resources = await createWorkerResources(config, { metrics: runtimeMetrics() });
  const connection = await NativeConnection.connect(config.temporal.connection);
  try {
    const versioned = await createWorker(
      config,
      connection,
      resources.deps,
      undefined,
      tracing ? [tracing.plugin] : [],
    );
    log.info('Worker started', {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      deployment: versioned.version.deploymentName,
      buildId: versioned.version.buildId,
      versioning: config.temporal.deployment.useVersioning,
      address: config.temporal.connection.address,
      metrics: config.worker.metricsBindAddress,
      tracing: tracing !== null,
    });
    const events = config.events.queueUrl
      ? await startEventPoller(config, config.events.queueUrl, resources.deps.db)
      : null;
    try {
      // Worker.run() drains in-flight tasks on SIGINT/SIGTERM (the SDK's default shutdown signals).
      await runPromoted(config, connection, versioned);
    } finally {
      await events?.stop();
    }
  } finally {
    await connection.close();
    await resources.close();
    await tracing?.shutdown();
    log.info('Worker stopped');
  }
}

/** The Catalog event queue's poller, beside the worker in the same process; stopped before the worker's clients close. */
async function startEventPoller(config: Config, queueUrl: string, db: Db): Promise<{ stop(): Promise<void> }> {
  const listing = await ListingSyncClient.connect(config);
  const sqs = sqsClientFromConfig(config);
  const connection = listing.client.connection;
  const withDeadline = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + 15_000, fn);
  const countEvent = eventMetrics();
  const poller = new EventPoller({
    sqs,
    queueUrl,
    waitSeconds: config.events.waitSeconds,
    db,
    logger: Runtime.instance().logger,
    refresh: (connectionId, request) => withDeadline(() => listing.requestRefresh(connectionId, request)),
    temporalHealthy: () => listing.temporalReachable(),
    onMessage: countEvent,
  });
  poller.start();
  return {
    async stop() {
      await poller.stop();
      sqs.destroy();
      await listing.close();
    },
  };
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`listing-sync worker: ${message}\n`);
  process.exit(1);
});
