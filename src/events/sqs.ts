import { SQSClient } from '@aws-sdk/client-sqs';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import type { Config } from '../config.ts';

/**
 * The SQS client for the Catalog event queue. Its endpoint comes from the SDK's own configuration
 * (AWS_ENDPOINT_URL_SQS, profiles); only the wire protocol is ours to pick, for servers that speak the Query
 * protocol alone.
 */
export function createSqsClient(config: Config): SQSClient {
  const { region, connectTimeoutMs, maxAttempts } = config.aws;
  return new SQSClient({
    region,
    maxAttempts,
    // A long poll holds the request open for up to waitSeconds; only a silence well past that is a failure.
    requestHandler: {
      requestTimeout: (config.events.waitSeconds + 10) * 1_000,
      connectionTimeout: connectTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(config.events.sqsProtocol === 'query'
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
