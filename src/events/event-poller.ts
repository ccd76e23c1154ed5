import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@temporalio/common';
import type { Db, Filter } from 'mongodb';
import { collections, type ConnectionRecord } from '../store/index.ts';
import { parseCatalogEvent, type CatalogEvent } from '../domain/catalog-event.ts';
import type { RefreshRequest } from '../shared/types.ts';

export type EventOutcome = 'refreshed' | 'unknown_account' | 'malformed' | 'deferred';

export interface EventPollerDeps {
  sqs: SQSClient;
  queueUrl: string;
  waitSeconds: number;
  db: Db;
  /** Asks Temporal for the refresh (ListingSyncClient.requestRefresh); resolves once Temporal accepted it. */
  refresh(connectionId: string, request: RefreshRequest): Promise<{ workflowId: string; runId: string }>;
  /** True when Temporal answers; polling pauses while it does not, so messages are not burnt through redrive. */
  temporalHealthy(): Promise<boolean>;
  logger: Logger;
  /** Called per message with what became of it. */
  onMessage?: (outcome: EventOutcome) => void;
  /** Pause after a failed receive or an unreachable Temporal before trying again. */
  retryDelayMs?: number;
}

const MAX_MESSAGES = 10;

/**
 * Long-polls the Catalog event queue and turns each event into refresh requests for the connections of the
 * event's account. A message is deleted only once Temporal accepted every request it led to (or once it is known
 * to concern no connection); anything else stays on the queue, to come back after its visibility timeout and,
 * if it keeps failing, to move to the dead-letter queue by the queue's redrive policy. Several pollers (one per
 * worker) may share the queue: SQS hands each message to one of them at a time, and a duplicate delivery only
 * signals a sync that is already going to run.
 */
export class EventPoller {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly retryDelayMs: number;
  readonly handled: Record<EventOutcome, number> = { refreshed: 0, unknown_account: 0, malformed: 0, deferred: 0 };

  constructor(private readonly deps: EventPollerDeps) {
    this.retryDelayMs = deps.retryDelayMs ?? 2_000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the long poll at once and waits for the batch in hand; an unfinished message simply returns to the queue. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const { logger, queueUrl } = this.deps;
    logger.info('Polling the Catalog event queue', { queueUrl });
    let deferrals = 0;
    while (!this.stopping) {
      try {
        const deferred = await this.pollOnce();
        if (!deferred) {
          deferrals = 0;
          continue;
        }
        // Temporal may answer health checks and still refuse work (rate limits, permissions): back off each time,
        // so a message is not received (and counted towards the dead-letter queue) every few seconds.
        deferrals += 1;
        await this.pause(Math.min(60_000, this.retryDelayMs * 2 ** (deferrals - 1)));
        await this.waitForTemporal();
      } catch (err) {
        if (this.stopping) break;
        logger.error('Catalog event polling failed; continuing', { queueUrl, error: err });
        await this.pause();
      }
    }
    logger.info('Stopped polling the Catalog event queue', { queueUrl });
  }

  /** One receive and its batch; true when Temporal did not accept a request (those messages stay on the queue). */
  private async pollOnce(): Promise<boolean> {
    const { logger, queueUrl } = this.deps;
    let messages: Message[];
    try {
      const reply = await this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: MAX_MESSAGES,
          WaitTimeSeconds: this.deps.waitSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: this.abort.signal },
      );
      messages = reply.Messages ?? [];
    } catch (err) {
      if (this.stopping) return false;
      logger.warn('Could not receive from the Catalog event queue; trying again', { queueUrl, error: err });
      await this.pause();
      return false;
    }
    if (messages.length === 0) return false;
    return this.handleBatch(messages);
  }

  /** Handles one batch; true when Temporal did not accept a request (those messages stay on the queue). */
  async handleBatch(messages: Message[]): Promise<boolean> {
    const { logger } = this.deps;
    const byAccount = new Map<string, { events: CatalogEvent[]; messages: Message[] }>();
    for (const message of messages) {
      const parsed = parseCatalogEvent(message.Body);
      if (!parsed.ok) {
        logger.warn("Catalog event message rejected; left for the queue's redrive policy", {
          messageId: message.MessageId,
          reason: parsed.reason,
          receiveCount: message.Attributes?.ApproximateReceiveCount,
        });
        this.count('malformed');
        continue;
      }
      const entry = byAccount.get(parsed.event.account) ?? { events: [], messages: [] };
      entry.events.push(parsed.event);
      entry.messages.push(message);
      byAccount.set(parsed.event.account, entry);
    }
    if (byAccount.size === 0) return false;

    let connectionsByAccount: Map<string, string[]>;
    try {
      connectionsByAccount = await this.findConnections([...byAccount.keys()]);
    } catch (err) {
      logger.warn('Could not read connections for Catalog events; the messages stay on the queue', { error: err });
      for (const entry of byAccount.values()) for (let i = 0; i < entry.messages.length; i++) this.count('deferred');
      await this.pause();
      return false;
    }

    const done: Message[] = [];
    let deferred = false;
    await Promise.all(
      [...byAccount].map(async ([account, { events, messages: accountMessages }]) => {
        const connectionIds = connectionsByAccount.get(account) ?? [];
        const [first] = events;
        if (!first) return;
        if (connectionIds.length === 0) {
          logger.info('Catalog event for an AWS account with no connection; message deleted', {
            account,
            eventIds: events.map((e) => e.id),
            detailType: first.detailType,
          });
          done.push(...accountMessages);
          for (let i = 0; i < accountMessages.length; i++) this.count('unknown_account');
          return;
        }
        // The batch's events for one account make one request per connection: a sync covers them all.
        const request: RefreshRequest = { eventId: first.id, detailType: first.detailType, account };
        const results = await Promise.allSettled(connectionIds.map((id) => this.deps.refresh(id, request)));
        const failed = results.filter((r) => r.status === 'rejected');
        if (failed.length > 0) {
          deferred = true;
          logger.warn('Temporal did not accept a refresh; the event stays on the queue', {
            account,
            eventIds: events.map((e) => e.id),
            error: (failed[0] as PromiseRejectedResult).reason as unknown,
          });
          for (let i = 0; i < accountMessages.length; i++) this.count('deferred');
          return;
        }
        results.forEach((r, i) => {
          if (r.status !== 'fulfilled') return;
          logger.info('Refresh requested by a Catalog event', {
            connectionId: connectionIds[i],
            workflowId: r.value.workflowId,
            runId: r.value.runId,
            account,
            detailType: first.detailType,
            eventId: first.id,
            // How old the event was when it was handled: the lag an operator looks for first.
            eventTime: first.time,
            events: events.length,
          });
        });
        done.push(...accountMessages);
        for (let i = 0; i < accountMessages.length; i++) this.count('refreshed');
      }),
    );
    await this.delete(done);
    return deferred;
  }

  /** Connection ids by account: the account the app recorded, or else the one in the role ARN. */
  private async findConnections(accounts: string[]): Promise<Map<string, string[]>> {
    const filter: Filter<ConnectionRecord> = {
      provider: 'aws',
      disabled: { $ne: true },
      $or: [
        { aws_account_id: { $in: accounts } },
        ...accounts.map((a) => ({ iam_role_arn: { $regex: `^arn:aws:iam::${a}:` } })),
      ],
    };
    const docs = await collections(this.deps.db)
      .connections.find(filter, { projection: { _id: 1, aws_account_id: 1, iam_role_arn: 1 } })
      .toArray();
    const byAccount = new Map<string, string[]>();
    for (const doc of docs) {
      const arnAccount =
        typeof doc.iam_role_arn === 'string' ? /^arn:aws:iam::(\d{12}):/.exec(doc.iam_role_arn)?.[1] : null;
      const account = typeof doc.aws_account_id === 'string' && doc.aws_account_id ? doc.aws_account_id : arnAccount;
      if (!account || !accounts.includes(account)) continue;
      byAccount.set(account, [...(byAccount.get(account) ?? []), String(doc._id)]);
    }
    return byAccount;
  }

  private async delete(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += MAX_MESSAGES) {
      const chunk = messages.slice(i, i + MAX_MESSAGES);
      try {
        const reply = await this.deps.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.deps.queueUrl,
            Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        for (const failure of reply.Failed ?? []) {
          this.deps.logger.warn('A handled Catalog event could not be deleted; its redelivery is harmless', {
            messageId: chunk[Number(failure.Id)]?.MessageId,
            code: failure.Code,
            reason: failure.Message,
          });
        }
      } catch (err) {
        this.deps.logger.warn('Handled Catalog events could not be deleted; their redelivery is harmless', {
          messages: chunk.length,
          error: err,
        });
      }
    }
  }

  private async waitForTemporal(): Promise<void> {
    let logged = false;
    while (!this.stopping) {
      if (await this.deps.temporalHealthy().catch(() => false)) {
        if (logged) this.deps.logger.info('Temporal is back; polling the Catalog event queue again');
        return;
      }
      if (!logged) {
        this.deps.logger.warn('Temporal is unreachable; event polling paused (messages wait on the queue)');
        logged = true;
      }
      await this.pause();
    }
  }

  private async pause(ms = this.retryDelayMs): Promise<void> {
    await delay(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  private count(outcome: EventOutcome): void {
    this.handled[outcome] += 1;
    this.deps.onMessage?.(outcome);
  }
}
