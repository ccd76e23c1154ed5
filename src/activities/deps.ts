// What every activity factory is built from: the worker's clients and settings, and the per-worker state the
// activities share (metrics, the collections, the bound on concurrent update batches).
import type { STSClient } from '@aws-sdk/client-sts';
import type { MarketplaceCatalogClient } from '@aws-sdk/client-marketplace-catalog';
import type { Db } from 'mongodb';
import { collections, type Collections } from '../store/index.ts';
import { noopMetrics, type SyncMetrics } from './metrics.ts';
import type { RoleSessions } from './role-sessions.ts';
import { Semaphore } from './semaphore.ts';

export interface ActivityDeps {
  db: Db;
  sts: STSClient;
  /** Builds a Catalog client for one assumed-role session; called once per session, not per call. */
  catalogClient: (credentials: RoleCredentials) => MarketplaceCatalogClient;
  sessions: RoleSessions;
  clock: () => Date;
  metrics?: SyncMetrics;
  settings?: Partial<ActivitySettings>;
}

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface ActivitySettings {
  /** STS minimum; a sync needs minutes, and a short session limits what a leaked key could do. */
  sessionDurationSeconds: number;
  /** A type with at most this many products travels in the activity result; more are staged in MongoDB. */
  inlineProductLimit: number;
  /** Caps on the lists kept in a summary, so history and the connection document stay small. */
  summaryListLimit: number;
  /**
   * Pages one type may take before the listing counts as runaway. AWS Marketplace caps a seller at a few
   * hundred products per type (service quotas, adjustable), so 1,000 pages of 50 is far beyond any real catalog.
   */
  maxPagesPerType: number;
  /** Row updates per bulk write, and bulk writes of updates running at once in this worker (docs/design.md). */
  updateBatchSize: number;
  updateBatchConcurrency: number;
  /** How often a long listing heartbeats while it waits on AWS; the activity's heartbeat timeout is a few of these. */
  heartbeatIntervalMs: number;
}

const DEFAULT_SETTINGS: ActivitySettings = {
  sessionDurationSeconds: 900,
  inlineProductLimit: 100,
  summaryListLimit: 50,
  maxPagesPerType: 1_000,
  updateBatchSize: 90,
  updateBatchConcurrency: 4,
  heartbeatIntervalMs: 2_000,
};

/** Built once per createActivities: one update-batch bound per worker, whatever the activity. */
export interface ActivityContext {
  deps: ActivityDeps;
  settings: ActivitySettings;
  metrics: SyncMetrics;
  c: Collections;
  updateSlots: Semaphore;
}

export function activityContext(deps: ActivityDeps): ActivityContext {
  const settings: ActivitySettings = { ...DEFAULT_SETTINGS, ...deps.settings };
  return {
    deps,
    settings,
    metrics: deps.metrics ?? noopMetrics,
    c: collections(deps.db),
    updateSlots: new Semaphore(settings.updateBatchConcurrency),
  };
}

/** The Marketplace Catalog API's catalog name, in every Catalog request. */
export const CATALOG = 'AWSMarketplace';
