import assert from 'node:assert/strict';

export interface EmulatorProduct {
  entityType: string;
  entityId: string;
  name: string;
  visibility: string;
  lastModified: string;
  /** Served verbatim as the product's DetailsDocument instead of the generated one. */
  details?: Record<string, unknown>;
}

export interface EmulatorAccount {
  accountId: string;
  roles: Array<{ name: string; externalId: string | null }>;
  products?: EmulatorProduct[];
  generate?: Record<string, number>;
  faults?: EmulatorFaults;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export type EmulatorOperation = 'AssumeRole' | 'ListEntities' | 'DescribeEntity' | 'BatchDescribeEntities';

/**
 * The faults an account (PATCH accounts/<id>/faults, where null deletes a key) or every account (PUT faults)
 * can be given.
 */
export interface EmulatorFaults {
  latencyMs?: number;
  /** 0..1 of calls answered as throttled, spread evenly. */
  throttleRate?: number;
  entityTypeErrors?: Record<string, { code: string; message?: string }>;
  /**
   * Per entity id: BatchDescribeEntities lists it under Errors ({ ErrorCode: code, ErrorMessage: message }),
   * DescribeEntity answers the restJson1 error `code`.
   */
  describeErrors?: Record<string, { code: string; message?: string }>;
  denyAssumeRole?: boolean;
  /**
   * For durationMs from when it is set, the operations (default all) answer `status`: 429 throttling, 500 the
   * service's internal error, 502/503/504 a load balancer's HTML page with no AWS error type.
   */
  outage?: { durationMs: number; status: 429 | 500 | 502 | 503 | 504; operations?: EmulatorOperation[] };
  /** The operations (default all) are read and never answered. */
  hang?: { operations?: EmulatorOperation[] };
  /** ListEntities of these types ends on a NextToken back to the first page, so it never ends. */
  loopingTokens?: Record<string, true>;
  /** Raw entries appended verbatim to the EntitySummaryList of the first ListEntities page of each type. */
  oddSummaries?: Record<string, Array<Record<string, unknown>>>;
}

type PerOperation = Record<string, number>;

export interface EmulatorStats {
  calls: PerOperation;
  throttled: PerOperation;
  errors: PerOperation;
  hung: PerOperation;
  byAccount: Record<string, { calls: PerOperation; throttled: PerOperation; errors: PerOperation; hung: PerOperation }>;
}

function adminUrl(path: string): string {
  const base = process.env.EMULATOR_ADMIN_URL;
  assert.ok(base, 'EMULATOR_ADMIN_URL is not set: run the tests through scripts/test.sh');
  return `${base.replace(/\/$/, '')}/_emulator/${path}`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(adminUrl(path), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `emulator ${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const emulator = {
  putAccounts: (accounts: EmulatorAccount[]) => call('POST', 'accounts', { accounts }),
  setFaults: (accountId: string, faults: { [K in keyof EmulatorFaults]: EmulatorFaults[K] | null }) =>
    call('PATCH', `accounts/${accountId}/faults`, faults),
  setGlobalFaults: (faults: EmulatorFaults) => call('PUT', 'faults', faults),
  resetStats: () => call('POST', 'stats/reset'),
  setProducts: (accountId: string, products: EmulatorProduct[]) =>
    call('PUT', `accounts/${accountId}/products`, { products }),
  /** Changes one product; null drops `details`. Bump lastModified too, so the revision changes as on AWS. */
  patchProduct: (
    accountId: string,
    entityId: string,
    patch: { [K in keyof Omit<EmulatorProduct, 'entityId' | 'entityType'>]?: EmulatorProduct[K] | null },
  ) => call('PATCH', `accounts/${accountId}/products/${entityId}`, patch),
  stats: () => call<EmulatorStats>('GET', 'stats'),
  issuedCredentials: async (accountId: string) =>
    (await call<{ credentials: IssuedCredentials[] }>('GET', `issued-credentials?accountId=${accountId}`)).credentials,
};

let counter = 0;
/** A fresh 12-digit account id per test, so tests never see each other's emulator state. */
export function uniqueAccountId(): string {
  counter += 1;
  return `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(3, '0')}`.slice(
    -12,
  );
}

const VISIBILITIES = ['Public', 'Limited', 'Restricted', 'Draft'];

export function makeProducts(
  accountId: string,
  entityType: string,
  count: number,
  prefix = entityType,
): EmulatorProduct[] {
  return Array.from({ length: count }, (_, i) => ({
    entityType,
    entityId: `prod-${accountId.slice(-6)}${entityType.slice(0, 2).toLowerCase()}${String(i).padStart(5, '0')}`,
    name: `${prefix} product ${i}`,
    visibility: VISIBILITIES[i % VISIBILITIES.length]!,
    lastModified: new Date(Date.UTC(2026, 0, 1 + (i % 300))).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }));
}
