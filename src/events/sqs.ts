import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import type { Config } from '../config.ts';

export interface SqsClientOptions {
  region: string;
  /** AWS SQS speaks both; "query" is for SQS-compatible servers that predate the JSON protocol (goaws). */
  protocol: 'json' | 'query';
  /** Must exceed the long-poll wait: a ReceiveMessage legitimately holds the request that long. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxAttempts?: number;
  /** For set-up scripts that talk to a server of their own; the worker leaves both to the SDK's configuration. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * An SQS client whose endpoint comes from the SDK's own configuration (AWS_ENDPOINT_URL_SQS, profiles); only the
 * wire protocol is ours to pick.
 */
export function createSqsClient(opts: SqsClientOptions): SQSClient {
  return new SQSClient({
    region: opts.region,
    ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    requestHandler: {
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      connectionTimeout: opts.connectTimeoutMs ?? 3_000,
      throwOnRequestTimeout: true,
    },
    ...(opts.protocol === 'query'
      ? {
          protocol: AwsQueryProtocol,
          protocolSettings: {
            defaultNamespace: 'com.amazonaws.sqs',
            xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
            version: '2012-11-05',
          },
        }
      : {}),
  });
}

/** An AWS queue URL names its region (https://sqs.<region>.amazonaws.com/…); requests must be signed for it. */
export function queueRegion(queueUrl: string | null): string | null {
  return queueUrl ? (/^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(queueUrl)?.[1] ?? null) : null;
}

export function sqsClientFromConfig(config: Config): SQSClient {
  return createSqsClient({
    region: queueRegion(config.events.queueUrl) ?? config.aws.region,
    protocol: config.events.sqsProtocol,
    requestTimeoutMs: (config.events.waitSeconds + 10) * 1_000,
    connectTimeoutMs: config.aws.connectTimeoutMs,
    maxAttempts: config.aws.maxAttempts,
  });
}

export interface QueueDepth {
  /** Messages ready to be received. */
  waiting: number;
  /** Messages received and not yet deleted (being handled, or to reappear after their visibility timeout). */
  inFlight: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes: a } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    waiting: Number(a?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
