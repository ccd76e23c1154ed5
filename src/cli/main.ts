import { parseArgs } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { ConnectionNotFoundError, ListingSyncClient, OnboardingError } from '../client/index.ts';
import { testCatalogEvent } from '../domain/catalog-event.ts';
import { queueDepth, sqsClientFromConfig } from '../events/sqs.ts';
import { ensureSchedule, scheduleHandle, triggerSchedule } from '../client/schedule.ts';
import { collections, firstForConnection } from '../store/index.ts';
import { toSyncError } from '../shared/failures.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import {
  previewConnectionWorkflowId,
  syncAllWorkflowId,
  syncConnectionWorkflowId,
  SYNC_ALL_SCHEDULE_ID,
} from '../shared/workflow-ids.ts';
import type { syncAll } from '../workflows/index.ts';
import { describeDeployment, promoteVersion, rampVersion } from '../deploy/deployment-api.ts';
import { verifyBuild } from '../deploy/verify.ts';
import { loadWorkflowCode } from '../worker/deployment.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

class UsageError extends Error {}

interface Command {
  usage: string;
  help: string;
  options?: Record<string, { type: 'boolean' | 'string'; description: string }>;
  run(ctx: Context, positionals: string[], flags: Record<string, string | boolean | undefined>): Promise<number>;
}

interface Context {
  config: Config;
  json: boolean;
  out(human: string, data: unknown): void;
  app(): Promise<ListingSyncClient>;
  mongo(): Promise<MongoClient>;
}

const commands: Record<string, Command> = {
  sync: {
    usage: 'sync <connectionId> [--wait]',
    help: 'Start (or join the running) sync of one connection. With --wait, print its summary; exit 1 if it fails.',
    options: { wait: { type: 'boolean', description: 'wait for the result' } },
    async run(ctx, [connectionId], flags) {
      if (!connectionId) throw new UsageError('sync needs a connection id');
      const app = await ctx.app();
      const { workflowId, handle } = await app.startConnectionSync(connectionId);
      const { runId } = await handle.describe();
      const link = app.uiLink(workflowId, runId);
      if (!flags.wait) {
        ctx.out(`Started ${workflowId} (run ${runId})\n${link ?? ''}`, { workflowId, runId, link });
        return EXIT.ok;
      }
      try {
        const summary = await handle.result();
        ctx.out(`Synced ${connectionId}: ${JSON.stringify(summary)}\n${link ?? ''}`, {
          workflowId,
          runId,
          link,
          summary,
        });
        return EXIT.ok;
      } catch (err) {
        const failure = toSyncError(err);
        ctx.out(`Sync of ${connectionId} failed: ${failure.type}: ${failure.message}\n${link ?? ''}`, {
          workflowId,
          runId,
          link,
          failure,
        });
        return EXIT.failed;
      }
    },
  },
  preview: {
    usage: 'preview <connectionId>',
    help: 'Show what a sync of one connection would do now (update, link, import, flag, describe), writing nothing.',
    async run(ctx, [connectionId]) {
      if (!connectionId) throw new UsageError('preview needs a connection id');
      const app = await ctx.app();
      const workflowId = previewConnectionWorkflowId(connectionId);
      try {
        const preview = await app.previewConnectionSync(connectionId);
        const w = preview.would;
        const list = (titles: string[]) => (titles.length ? titles.join(', ') : '-');
        const lines = [
          `A sync of ${connectionId} would, of ${preview.total_aws} products in AWS:`,
          `  update ${w.update}: ${list(preview.titles.update)}`,
          `  link ${w.link}: ${list(preview.titles.link)}`,
          `  import ${w.import}: ${list(preview.titles.import)}`,
          `  flag as gone from AWS ${w.flag_missing}: ${list(preview.titles.flag_missing)}`,
          `  describe ${w.describe} (BatchDescribeEntities)`,
          `  ambiguous titles left to a person: ${list(preview.ambiguous.map((a) => a.title))}`,
          ...preview.skipped_types.map((t) => `  skipped ${t.entity_type}: ${t.reason}`),
          ...preview.failed_types.map((t) => `  failed ${t.entity_type}: ${t.type}: ${t.message}`),
          app.uiLink(workflowId) ?? '',
        ];
        ctx.out(lines.join('\n'), preview);
        return EXIT.ok;
      } catch (err) {
        const failure = toSyncError(err);
        ctx.out(`Preview of ${connectionId} failed: ${failure.type}: ${failure.message}`, { workflowId, failure });
        return EXIT.failed;
      }
    },
  },
  status: {
    usage: 'status <connectionId>',
    help: "Show a connection's last sync: outcome, counts, error and a link to the run in the Web UI.",
    async run(ctx, [connectionId]) {
      if (!connectionId) throw new UsageError('status needs a connection id');
      const c = collections((await ctx.mongo()).db(ctx.config.mongo.dbName));
      const doc = await firstForConnection(connectionId, (filter) => c.connections.findOne(filter));
      if (!doc) throw new ConnectionNotFoundError(`No connection ${connectionId}`);
      const app = await ctx.app();
      const workflowId = syncConnectionWorkflowId(connectionId);
      let workflow: { status: string; runId: string; startTime: Date } | null = null;
      try {
        const d = await app.client.workflow.getHandle(workflowId).describe();
        workflow = { status: d.status.name, runId: d.runId, startTime: d.startTime };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      const sync = doc.sync ?? null;
      const link = workflow ? app.uiLink(workflowId, workflow.runId) : null;
      const lines = [
        `Connection ${connectionId} (team ${String(doc.team_id)}, role ${String(doc.iam_role_arn)})`,
        `  last sync:  ${sync?.status ?? 'never'}  started ${sync?.started_at?.toISOString() ?? '-'}  finished ${sync?.finished_at?.toISOString() ?? '-'}`,
        `  summary:    ${sync?.summary ? JSON.stringify(sync.summary) : '-'}`,
        `  error:      ${sync?.error ? `${(sync.error as { type: string }).type}: ${(sync.error as { message: string }).message}` : '-'}`,
        `  workflow:   ${workflow ? `${workflowId} ${workflow.status}` : 'no run in Temporal'}`,
        `  ui:         ${link ?? '-'}`,
      ];
      ctx.out(lines.join('\n'), { connectionId, sync, workflow: workflow && { workflowId, ...workflow }, link });
      return sync?.status === 'failed' ? EXIT.failed : EXIT.ok;
    },
  },
  'sync-all': {
    usage: 'sync-all [--wait]',
    help: 'Start a SyncAll over every AWS connection now (outside the schedule).',
    options: { wait: { type: 'boolean', description: 'wait for the totals' } },
    async run(ctx, _p, flags) {
      const app = await ctx.app();
      const workflowId = syncAllWorkflowId(new Date());
      const handle = await app.client.workflow.start<typeof syncAll>('syncAll', {
        taskQueue: ctx.config.temporal.taskQueue,
        workflowId,
        args: [{ concurrency: ctx.config.syncAll.concurrency, batchSize: ctx.config.syncAll.batchSize }],
        staticSummary: 'Sync AWS Marketplace listings of every connection (manual)',
      });
      const link = app.uiLink(workflowId, handle.firstExecutionRunId);
      if (!flags.wait) {
        ctx.out(`Started ${workflowId}\n${link ?? ''}`, { workflowId, link });
        return EXIT.ok;
      }
      const result = await handle.result();
      ctx.out(`SyncAll finished: ${JSON.stringify(result.totals)}\n${link ?? ''}`, { workflowId, link, result });
      return result.totals.connections.failed > 0 ? EXIT.failed : EXIT.ok;
    },
  },
  schedule: {
    usage: 'schedule ensure|describe|pause|unpause|trigger [--every 6h]',
    help: `Manage the ${SYNC_ALL_SCHEDULE_ID} schedule. ensure creates it or updates it to the current definition.`,
    options: { every: { type: 'string', description: 'interval for ensure (default 6h)' } },
    async run(ctx, [action], flags) {
      const { client } = await ctx.app();
      const handle = scheduleHandle(client);
      switch (action) {
        case 'ensure': {
          const outcome = await ensureSchedule(client, {
            taskQueue: ctx.config.temporal.taskQueue,
            every: typeof flags.every === 'string' ? flags.every : '6h',
            input: { concurrency: ctx.config.syncAll.concurrency, batchSize: ctx.config.syncAll.batchSize },
          });
          ctx.out(`Schedule ${SYNC_ALL_SCHEDULE_ID}: ${outcome}`, { scheduleId: SYNC_ALL_SCHEDULE_ID, outcome });
          return EXIT.ok;
        }
        case 'describe': {
          const d = await handle.describe();
          const data = {
            scheduleId: SYNC_ALL_SCHEDULE_ID,
            paused: d.state.paused,
            note: d.state.note ?? null,
            everyMs: d.spec.intervals?.[0]?.every ?? null,
            overlap: d.policies.overlap,
            catchupWindowMs: d.policies.catchupWindow,
            nextActionTimes: d.info.nextActionTimes,
            recentActions: d.info.recentActions.map((a) => ({
              at: a.takenAt,
              workflowId: a.action.workflow.workflowId,
            })),
            running: d.info.runningActions.map((a) => a.workflow.workflowId),
          };
          ctx.out(
            [
              `Schedule ${SYNC_ALL_SCHEDULE_ID}: ${d.state.paused ? `PAUSED (${d.state.note ?? ''})` : 'active'}`,
              `  every ${Number(data.everyMs) / 3_600_000} h, overlap ${data.overlap}, catch-up ${data.catchupWindowMs / 60_000} min`,
              `  next: ${data.nextActionTimes.map((t) => t.toISOString()).join(', ')}`,
              `  recent: ${data.recentActions.map((a) => a.workflowId).join(', ') || '-'}`,
              `  running: ${data.running.join(', ') || '-'}`,
            ].join('\n'),
            data,
          );
          return EXIT.ok;
        }
        case 'pause':
          await handle.pause('Paused from the listing-sync CLI');
          ctx.out(`Paused ${SYNC_ALL_SCHEDULE_ID}`, { scheduleId: SYNC_ALL_SCHEDULE_ID, paused: true });
          return EXIT.ok;
        case 'unpause':
          await handle.unpause('Unpaused from the listing-sync CLI');
          ctx.out(`Unpaused ${SYNC_ALL_SCHEDULE_ID}`, { scheduleId: SYNC_ALL_SCHEDULE_ID, paused: false });
          return EXIT.ok;
        case 'trigger':
          await triggerSchedule(client);
          ctx.out(`Triggered ${SYNC_ALL_SCHEDULE_ID} (skipped if a SyncAll is already running)`, {
            scheduleId: SYNC_ALL_SCHEDULE_ID,
            triggered: true,
          });
          return EXIT.ok;
        default:
          throw new UsageError('schedule needs one of: ensure, describe, pause, unpause, trigger');
      }
    },
  },
  deploy: {
    usage: 'deploy verify [--closed-within 24] | status | ramp <buildId> <percent> | promote <buildId>',
    help:
      'verify replays open (and recently closed) runs against this build (WORKFLOW_BUNDLE_PATH, or the source) and ' +
      'exits 1 if a run that would move onto it does not replay; status, ramp and promote drive the Worker ' +
      'Deployment (TEMPORAL_DEPLOYMENT_NAME). Runbook: docs/deploying.md.',
    options: {
      'closed-within': { type: 'string', description: 'verify: also replay runs closed in the last N hours (24)' },
    },
    async run(ctx, [action, buildId, percent], flags) {
      const { client } = await ctx.app();
      const { namespace } = ctx.config.temporal;
      const deploymentName = ctx.config.temporal.deployment.name;
      switch (action) {
        case 'verify': {
          const hours = Number(flags['closed-within'] ?? 24);
          if (!Number.isFinite(hours) || hours < 0) throw new UsageError('--closed-within takes a number of hours');
          const { code, version } = await loadWorkflowCode(ctx.config);
          const report = await verifyBuild(client, {
            code,
            buildId: version.buildId,
            taskQueue: ctx.config.temporal.taskQueue,
            closedWithinHours: hours,
          });
          const line = (f: (typeof report.wouldStrand)[number]) =>
            `  ${f.workflowType} ${f.workflowId} run ${f.runId} (${f.behavior}${f.buildId ? ` on ${f.buildId}` : ''}): ${f.message.slice(0, 300)}`;
          ctx.out(
            [
              `Build ${report.buildId}: replayed ${report.replayed} histories (${report.events} events) in ${report.seconds.toFixed(1)} s (peak RSS ${report.peakRssMb} MB)`,
              report.wouldStrand.length === 0
                ? '  no open run that would move onto this build fails to replay'
                : `  ${report.wouldStrand.length} open runs would be STRANDED on this build:`,
              ...report.wouldStrand.map(line),
              ...(report.pinnedElsewhere.length
                ? [
                    `  ${report.pinnedElsewhere.length} pinned runs of other builds do not replay (they stay on their build):`,
                  ]
                : []),
              ...report.pinnedElsewhere.map(line),
              ...(report.closed.length
                ? [`  ${report.closed.length} closed runs do not replay (a sign of the same break):`]
                : []),
              ...report.closed.map(line),
            ].join('\n'),
            report,
          );
          return report.wouldStrand.length === 0 ? EXIT.ok : EXIT.failed;
        }
        case 'status': {
          const state = await describeDeployment(client.workflowService, namespace, deploymentName);
          ctx.out(
            [
              `Deployment ${deploymentName}: current ${state.current ?? '(unversioned workers)'}` +
                (state.ramping ? `, ramping ${state.ramping.buildId} at ${state.ramping.percentage}%` : ''),
              ...state.versions.map(
                (v) =>
                  `  ${v.buildId.padEnd(28)} ${v.status}${v.drainage && v.drainage !== v.status ? ` (${v.drainage})` : ''}` +
                  (v.createdAt ? `, first polled ${v.createdAt.toISOString()}` : ''),
              ),
            ].join('\n'),
            state,
          );
          return EXIT.ok;
        }
        case 'ramp': {
          const percentage = Number(percent);
          if (!buildId || !Number.isFinite(percentage) || percentage < 0 || percentage > 100)
            throw new UsageError('deploy ramp needs a build id and a percentage from 0 to 100');
          await rampVersion(client.workflowService, namespace, deploymentName, buildId, percentage);
          ctx.out(`Ramping ${buildId} at ${percentage}% of ${deploymentName}`, { deploymentName, buildId, percentage });
          return EXIT.ok;
        }
        case 'promote': {
          if (!buildId) throw new UsageError('deploy promote needs a build id');
          await promoteVersion(client.workflowService, namespace, deploymentName, buildId);
          ctx.out(`${buildId} is now the Current Version of ${deploymentName}`, { deploymentName, current: buildId });
          return EXIT.ok;
        }
        default:
          throw new UsageError('deploy needs one of: verify, status, ramp, promote');
      }
    },
  },
  events: {
    usage: 'events send-test <accountId> [--detail-type "Change Set Succeeded"] | events status',
    help:
      'send-test puts a Catalog event for an AWS account on EVENTS_QUEUE_URL, as EventBridge would, so a worker ' +
      "refreshes that account's connections. status shows how many messages wait on the queue and its dead-letter queue.",
    options: {
      'detail-type': { type: 'string', description: "the event's detail-type (default Change Set Succeeded)" },
    },
    async run(ctx, [action, accountId], flags) {
      const queueUrl = ctx.config.events.queueUrl;
      if (!queueUrl) throw new ConfigError('EVENTS_QUEUE_URL is not set: which queue do the workers poll?');
      const sqs = sqsClientFromConfig(ctx.config);
      try {
        if (action === 'send-test') {
          if (!accountId || !/^\d{12}$/.test(accountId))
            throw new UsageError('send-test needs a 12-digit AWS account id');
          const detailType = typeof flags['detail-type'] === 'string' ? flags['detail-type'] : undefined;
          const event = testCatalogEvent(accountId, { id: randomUUID(), time: new Date(), detailType });
          const sent = await sqs.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
          );
          ctx.out(
            `Sent "${String(event['detail-type'])}" for account ${accountId} (event ${String(event.id)}, message ${sent.MessageId})`,
            { queueUrl, messageId: sent.MessageId, event },
          );
          return EXIT.ok;
        }
        if (action === 'status') {
          const depth = (url: string) => queueDepth(sqs, url);
          const queue = await depth(queueUrl);
          const dlqUrl = ctx.config.events.deadLetterQueueUrl;
          const dlq = dlqUrl ? await depth(dlqUrl) : null;
          const lines = [
            `Event queue ${queueUrl}: ${queue.waiting} waiting, ${queue.inFlight} being handled`,
            dlq
              ? `Dead-letter queue ${dlqUrl}: ${dlq.waiting} messages (each was received and never handled; the worker log says why)`
              : 'Dead-letter queue: set EVENTS_DLQ_URL to see it',
          ];
          ctx.out(lines.join('\n'), { queueUrl, queue, deadLetterQueueUrl: dlqUrl, deadLetterQueue: dlq });
          return EXIT.ok;
        }
        throw new UsageError('events needs send-test <accountId> or status');
      } finally {
        sqs.destroy();
      }
    },
  },
  'onboarding-link': {
    usage: 'onboarding-link <connectionId>',
    help:
      "Print the CloudFormation quick-create link that creates the seller's read-only role (deploy/seller-onboarding.yaml) " +
      "with the connection's external ID filled in. Needs SELLER_TEMPLATE_URL and VENDOR_AWS_PRINCIPAL.",
    async run(ctx, [connectionId]) {
      if (!connectionId) throw new UsageError('onboarding-link needs a connection id');
      const app = await ctx.app();
      try {
        const link = await app.onboardingLink(connectionId);
        ctx.out(link, { connectionId, link });
        return EXIT.ok;
      } catch (err) {
        if (!(err instanceof OnboardingError)) throw err;
        ctx.out(err.message, { connectionId, error: err.message });
        return EXIT.failed;
      }
    },
  },
  connections: {
    usage: 'connections list [--failed]',
    help: 'List AWS connections with their last sync outcome; --failed shows only failed ones.',
    options: { failed: { type: 'boolean', description: 'only connections whose last sync failed' } },
    async run(ctx, [action], flags) {
      if (action !== 'list') throw new UsageError('connections needs: list');
      const c = collections((await ctx.mongo()).db(ctx.config.mongo.dbName));
      const filter = flags.failed ? { provider: 'aws', 'sync.status': 'failed' } : { provider: 'aws' };
      const docs = await c.connections.find(filter, { sort: { _id: 1 } }).toArray();
      const rows = docs.map((d) => {
        const sync = (d.sync ?? {}) as {
          status?: string;
          finished_at?: Date;
          error?: { type: string; message: string };
        };
        return {
          connectionId: String(d._id),
          teamId: String(d.team_id),
          status: sync.status ?? 'never',
          finishedAt: sync.finished_at ?? null,
          error: sync.error ?? null,
        };
      });
      const text = rows
        .map(
          (r) =>
            `${r.connectionId}\t${r.teamId}\t${r.status}\t${r.finishedAt ? r.finishedAt.toISOString() : '-'}\t${r.error ? `${r.error.type}: ${r.error.message}` : ''}`,
        )
        .join('\n');
      ctx.out(text || '(no connections)', rows);
      return EXIT.ok;
    },
  },
};

function helpText(): string {
  return [
    'Usage: listing-sync <command> [options] [--json]',
    '',
    'Commands:',
    ...Object.values(commands).map((c) => `  ${c.usage.padEnd(50)} ${c.help}`),
    '',
    'Configuration comes from the environment, as for the worker (README, "Configuration").',
    'Exit codes: 0 ok, 1 the sync failed, 2 usage or configuration error, 3 not found.',
  ].join('\n');
}

export async function runCli(
  argv: string[],
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    write(`${helpText()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    write(`Unknown command "${name}".\n\n${helpText()}\n`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.entries(command.options ?? {}).map(([k, v]) => [k, { type: v.type }])),
      },
    });
  } catch (err) {
    write(`${(err as Error).message}\nUsage: listing-sync ${command.usage}\n`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    const opts = Object.entries(command.options ?? {}).map(([k, v]) => `  --${k.padEnd(10)} ${v.description}`);
    write(
      `Usage: listing-sync ${command.usage} [--json]\n\n${command.help}\n${opts.length ? `\nOptions:\n${opts.join('\n')}\n` : ''}`,
    );
    return EXIT.ok;
  }

  let app: ListingSyncClient | undefined;
  let mongo: MongoClient | undefined;
  try {
    const config = loadConfig();
    const json = parsed.values.json === true;
    const ctx: Context = {
      config,
      json,
      out: (human, data) => write(`${json ? JSON.stringify(data) : human}\n`),
      app: async () => (app ??= await ListingSyncClient.connect(config)),
      mongo: async () => (mongo ??= await new MongoClient(config.mongo.uri).connect()),
    };
    return await command.run(ctx, parsed.positionals, parsed.values);
  } catch (err) {
    if (err instanceof UsageError) {
      write(`${err.message}\nUsage: listing-sync ${command.usage}\n`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      write(`${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ConnectionNotFoundError || err instanceof WorkflowNotFoundError) {
      write(`${err.message}\n`);
      return EXIT.notFound;
    }
    throw err;
  } finally {
    await app?.close();
    await mongo?.close();
  }
}
