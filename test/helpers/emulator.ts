import assert from 'node:assert/strict';

// The emulator's own types: one declaration of what its admin API takes and gives.
export type {
  AccountSpec as EmulatorAccount,
  Faults as EmulatorFaults,
  IssuedCredentials,
  Product as EmulatorProduct,
} from '../../emulator/state.ts';
import type {
  AccountSpec as EmulatorAccount,
  Faults as EmulatorFaults,
  IssuedCredentials,
  Product as EmulatorProduct,
} from '../../emulator/state.ts';

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
