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
  const local = (url: string | undefined) => `${endpoint.replace(/\/$/, '')}${new URL(url ?? '').pathname}`;
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
