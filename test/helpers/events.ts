import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import type { Db } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { createEventQueues, type EventQueues } from '../../scripts/event-queues.ts';
import { ListingSyncClient } from '../../src/client/index.ts';
import { testCatalogEvent } from '../../src/domain/catalog-event.ts';
import { EventPoller, type EventPollerDeps } from '../../src/events/event-poller.ts';
import { createSqsClient } from '../../src/events/sqs.ts';

export { queueDepth } from '../../src/events/sqs.ts';
import { syncConnectionWorkflowId } from '../../src/shared/workflow-ids.ts';

export function testSqsClient(): SQSClient {
  return createSqsClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    protocol: process.env.SQS_PROTOCOL === 'query' ? 'query' : 'json',
  });
}

let queues = 0;
/** A queue (and dead-letter queue) of the test's own, as the task queue is. */
export async function testQueues(
  sqs: SQSClient,
  name: string,
  opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<EventQueues> {
  queues += 1;
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_SQS is not set: run the tests through scripts/test.sh');
  return createEventQueues(sqs, endpoint, `test-${name}-${process.pid}-${queues}`, opts);
}

export async function sendEvent(
  sqs: SQSClient,
  queueUrl: string,
  account: string,
  detailType?: string,
): Promise<string> {
  const id = randomUUID();
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(testCatalogEvent(account, { id, time: new Date(), detailType })),
    }),
  );
  return id;
}

export async function sendRaw(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })),
      }),
    );
  }
}

export interface LogLine {
  level: LogLevel;
  message: string;
  meta: LogMetadata | undefined;
}

/** The SDK's Logger shape, keeping every line for assertions. */
export class CapturingLogger implements Logger {
  readonly lines: LogLine[] = [];
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.lines.push({ level, message, meta });
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** A poller as the worker process runs one, in the test's process. */
export function testPoller(opts: {
  sqs: SQSClient;
  queueUrl: string;
  db: Db;
  client: Client;
  taskQueue: string;
  logger?: CapturingLogger;
  /** Wraps the real refresh call, e.g. to fail after Temporal accepted it. */
  wrapRefresh?: (refresh: EventPollerDeps['refresh']) => EventPollerDeps['refresh'];
}): { poller: EventPoller; logger: CapturingLogger } {
  const logger = opts.logger ?? new CapturingLogger();
  const app = ListingSyncClient.fromClient(opts.client, opts.taskQueue);
  const poller = new EventPoller({
    sqs: opts.sqs,
    queueUrl: opts.queueUrl,
    waitSeconds: 1,
    db: opts.db,
    logger,
    retryDelayMs: 250,
    refresh: (opts.wrapRefresh ?? ((r) => r))((connectionId, request) =>
      opts.client.connection.withDeadline(Date.now() + 5_000, () => app.requestRefresh(connectionId, request)),
    ),
    temporalHealthy: () => app.temporalReachable(2_000),
  });
  return { poller, logger };
}

/** Every run of a connection's sync so far, oldest first (continue-as-new makes one run per refresh). */
export async function syncRuns(
  client: Client,
  connectionId: string,
): Promise<Array<{ runId: string; status: string }>> {
  const runs: Array<{ runId: string; status: string; start: number }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${syncConnectionWorkflowId(connectionId)}'` })) {
    runs.push({ runId: wf.runId, status: wf.status.name, start: wf.startTime.getTime() });
  }
  return runs.sort((a, b) => a.start - b.start).map(({ runId, status }) => ({ runId, status }));
}
