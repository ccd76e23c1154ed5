import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface EventQueues {
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/**
 * The vendor side of event-driven refresh, as deploy/vendor-events.yaml creates it in AWS: the event queue and
 * its dead-letter queue, which takes a message after `maxReceiveCount` receives that did not delete it.
 */
export async function createEventQueues(
  sqs: SQSClient,
  endpoint: string,
  name: string,
  opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<EventQueues> {
  // Some SQS-compatible servers answer with a URL on a host of their own making; the path is what names the queue.
  const local = (url: string | undefined) => {
    if (!url) throw new Error(`CreateQueue in ${name} answered without a QueueUrl`);
    // Not new URL(): a host like "us-east-1.127.0.0.1" ends in a number and is rejected as a malformed IPv4 address.
    return `${endpoint.replace(/\/$/, '')}${url.replace(/^[a-z]+:\/\/[^/]*/i, '')}`;
  };
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const deadLetterQueueUrl = local(dlq.QueueUrl);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: opts.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  return { queueUrl: local(queue.QueueUrl), deadLetterQueueUrl };
}
