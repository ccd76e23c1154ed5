import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from './shared/types.ts';
import { SYNC_ALL_DEFAULTS } from './shared/sync-all-defaults.ts';

/** The Worker Deployment every listing-sync worker belongs to unless TEMPORAL_DEPLOYMENT_NAME says otherwise. */
export const DEFAULT_DEPLOYMENT_NAME = 'listing-sync';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Config {
  temporal: {
    connection: Pick<NativeConnectionOptions, 'address' | 'apiKey' | 'tls' | 'metadata'>;
    namespace: string;
    taskQueue: string;
    /** Base URL of the Web UI, for links printed by the CLI and the demo. */
    uiUrl: string | null;
    /** Worker Deployment Versioning: which deployment and build this worker is (docs/deploying.md). */
    deployment: {
      name: string;
      /** null: the workflow bundle's hash, so the build id changes exactly when the workflow code does. */
      buildId: string | null;
      /** Off only for servers without Worker Deployment Versioning (Temporal Server < 1.28). */
      useVersioning: boolean;
      /**
       * Make this build the deployment's Current Version once the worker polls: for the local stack, the demo and
       * the tests only. A production fleet is promoted by an operator (`listing-sync deploy promote`).
       */
      promoteOnStart: boolean;
    };
  };
  mongo: { uri: string; dbName: string };
  aws: {
    region: string;
    /** A request with no answer for this long is abandoned (and its socket closed) as TimeoutError. */
    requestTimeoutMs: number;
    connectTimeoutMs: number;
    /** Attempts per call inside the AWS SDK; Temporal's activity retries do the patient retrying. */
    maxAttempts: number;
  };
  worker: {
    maxConcurrentActivities: number;
    maxConcurrentLocalActivities: number;
    maxConcurrentWorkflowTasks: number;
    maxCachedWorkflows: number;
    workflowThreads: number;
    roleSessionCacheSize: number;
    metricsBindAddress: string | null;
    logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
    /** A bundle made by `npm run build:workflows`; without it the worker bundles at start. */
    workflowBundlePath: string | null;
  };
  events: {
    /** The SQS queue the vendor's EventBridge rule fills with Catalog events; the worker polls it when set. */
    queueUrl: string | null;
    /** Its dead-letter queue, for `events status`. */
    deadLetterQueueUrl: string | null;
    /**
     * The SQS wire protocol. AWS SQS speaks both; "query" is for SQS-compatible servers that predate the JSON
     * protocol (the local stack's goaws).
     */
    sqsProtocol: 'json' | 'query';
    /** Long-poll wait per ReceiveMessage (SQS allows at most 20 s). */
    waitSeconds: number;
  };
  onboarding: {
    /** Where deploy/seller-onboarding.yaml is published (an S3 HTTPS URL the CloudFormation console can read). */
    templateUrl: string | null;
    /** The AWS account id or IAM principal ARN the worker's AWS credentials belong to: the role trusts it. */
    vendorPrincipal: string | null;
    /** The vendor's event bus that sellers forward Catalog events to, when event-driven refresh is used. */
    eventBusArn: string | null;
  };
  syncAll: {
    /** Children running at once. AWS quotas are per seller account, so this is bounded by the worker, not AWS. */
    concurrency: number;
    /** Connections per SyncAll run before it continues as new, keeping each history small. */
    batchSize: number;
  };
}

type Env = Record<string, string | undefined>;

/** Reads and validates the whole configuration once; every problem is reported at the same time. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${raw} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  let temporal: ReturnType<typeof loadClientConnectConfig> | undefined;
  try {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    temporal = loadClientConnectConfig({ overrideEnvVars });
  } catch (err) {
    problems.push(`Temporal client configuration: ${(err as Error).message}`);
  }

  const mongoUri = env.MONGODB_URI ?? '';
  let dbName = 'listing_sync';
  if (!mongoUri) problems.push('MONGODB_URI is not set (e.g. mongodb://127.0.0.1:27017/listing_sync)');
  else {
    try {
      const path = new URL(mongoUri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, 'http://host')).pathname.slice(1);
      if (path) dbName = decodeURIComponent(path);
    } catch {
      problems.push('MONGODB_URI is not a valid MongoDB connection string');
    }
  }

  const logLevel = (env.LOG_LEVEL ?? 'INFO').toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel))
    problems.push(`LOG_LEVEL=${env.LOG_LEVEL} must be DEBUG, INFO, WARN or ERROR`);

  const url = (name: string): string | null => {
    const raw = env[name];
    if (!raw) return null;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return raw;
    } catch {
      // Reported below.
    }
    problems.push(`${name}=${raw} must be an http(s) URL`);
    return null;
  };
  const matching = (name: string, pattern: RegExp, what: string): string | null => {
    const raw = env[name];
    if (!raw) return null;
    if (pattern.test(raw)) return raw;
    problems.push(`${name}=${raw} must be ${what}`);
    return null;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = (env[name] ?? '').toLowerCase();
    if (raw === '') return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${env[name]} must be true or false`);
    return fallback;
  };
  const sqsProtocol = (env.SQS_PROTOCOL || 'json').toLowerCase();
  if (sqsProtocol !== 'json' && sqsProtocol !== 'query')
    problems.push(`SQS_PROTOCOL=${env.SQS_PROTOCOL} must be json or query`);

  const config: Config = {
    temporal: {
      connection: {
        address: temporal?.connectionOptions.address ?? 'localhost:7233',
        apiKey: temporal?.connectionOptions.apiKey,
        tls: temporal?.connectionOptions.tls,
        metadata: temporal?.connectionOptions.metadata,
      },
      namespace: temporal?.namespace ?? 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
      uiUrl: env.TEMPORAL_UI_URL?.replace(/\/$/, '') || null,
      deployment: {
        name:
          matching('TEMPORAL_DEPLOYMENT_NAME', /^[\w.-]{1,200}$/, 'letters, digits, ".", "_" or "-"') ??
          DEFAULT_DEPLOYMENT_NAME,
        buildId: matching('WORKER_BUILD_ID', /^[\w.+-]{1,200}$/, 'letters, digits, ".", "_", "+" or "-"'),
        useVersioning: bool('TEMPORAL_WORKER_VERSIONING', true),
        promoteOnStart: bool('WORKER_PROMOTE_ON_START', false),
      },
    },
    mongo: { uri: mongoUri, dbName },
    aws: {
      region: env.AWS_REGION || 'us-east-1',
      requestTimeoutMs: int('AWS_REQUEST_TIMEOUT_MS', 10_000, 100, 120_000),
      connectTimeoutMs: int('AWS_CONNECT_TIMEOUT_MS', 3_000, 100, 60_000),
      maxAttempts: int('AWS_MAX_ATTEMPTS', 2, 1, 10),
    },
    worker: {
      maxConcurrentActivities: int('WORKER_MAX_ACTIVITIES', 100, 1, 10_000),
      maxConcurrentLocalActivities: int('WORKER_MAX_LOCAL_ACTIVITIES', 200, 1, 10_000),
      maxConcurrentWorkflowTasks: int('WORKER_MAX_WORKFLOW_TASKS', 40, 2, 1_000),
      maxCachedWorkflows: int('WORKER_MAX_CACHED_WORKFLOWS', 400, 0, 100_000),
      workflowThreads: int('WORKER_WORKFLOW_THREADS', 1, 1, 32),
      roleSessionCacheSize: int('ROLE_SESSION_CACHE_SIZE', 2_000, 10, 1_000_000),
      metricsBindAddress: env.METRICS_BIND_ADDRESS || null,
      logLevel: logLevel as Config['worker']['logLevel'],
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH || null,
    },
    events: {
      queueUrl: url('EVENTS_QUEUE_URL'),
      deadLetterQueueUrl: url('EVENTS_DLQ_URL'),
      sqsProtocol: sqsProtocol === 'query' ? 'query' : 'json',
      waitSeconds: int('EVENTS_WAIT_SECONDS', 20, 1, 20),
    },
    onboarding: {
      templateUrl: url('SELLER_TEMPLATE_URL'),
      vendorPrincipal: matching(
        'VENDOR_AWS_PRINCIPAL',
        /^(\d{12}|arn:aws:iam::\d{12}:(root|(role|user)\/[\w+=,.@/-]+))$/,
        'a 12-digit AWS account id or an arn:aws:iam:: root, role or user ARN',
      ),
      eventBusArn: matching(
        'VENDOR_EVENT_BUS_ARN',
        /^arn:aws:events:us-east-1:\d{12}:event-bus\/[\w.\-/]{1,256}$/,
        'an arn:aws:events:us-east-1:<account>:event-bus/<name> ARN (Catalog events exist in us-east-1 only)',
      ),
    },
    syncAll: {
      concurrency: int('SYNC_ALL_CONCURRENCY', SYNC_ALL_DEFAULTS.concurrency, 1, 1_000),
      batchSize: int('SYNC_ALL_BATCH_SIZE', SYNC_ALL_DEFAULTS.batchSize, 10, 2_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}
