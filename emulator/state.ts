import { createHash, randomBytes } from 'node:crypto';

export const ENTITY_TYPES = ['SaaSProduct', 'AmiProduct', 'ContainerProduct', 'ProfessionalServicesProduct'];
export const OPERATIONS = ['AssumeRole', 'ListEntities', 'DescribeEntity', 'BatchDescribeEntities'];
/** 429 and 500 are AWS's own errors; 502..504 come from a load balancer in front of the service. */
export const OUTAGE_STATUSES = [429, 500, 502, 503, 504];

export interface Product {
  entityType: string;
  entityId: string;
  name: string;
  visibility: string;
  lastModified: string;
  /** Replaces the generated DetailsDocument verbatim, so a test can send AWS an odd one. */
  details?: Record<string, unknown>;
}

/** An error an operation answers for one entity, as restJson1 words it. */
export interface InjectedError {
  code: string;
  message?: string;
}

/**
 * The faults an account (PATCH accounts/<id>/faults, where null deletes a key) or every account (PUT faults) can be
 * given.
 */
export interface Faults {
  latencyMs?: number;
  /** 0..1 of calls answered as throttled, spread evenly. */
  throttleRate?: number;
  entityTypeErrors?: Record<string, InjectedError>;
  /**
   * Per entity id: BatchDescribeEntities lists it under Errors ({ ErrorCode: code, ErrorMessage: message }),
   * DescribeEntity answers the restJson1 error `code`.
   */
  describeErrors?: Record<string, InjectedError>;
  denyAssumeRole?: boolean;
  /**
   * For durationMs from when it is set, the operations (default all) answer `status`: 429 throttling, 500 the
   * service's internal error, 502/503/504 a load balancer's HTML page with no AWS error type.
   */
  outage?: { durationMs: number; status: number; operations?: string[] };
  /** The operations (default all) are read and never answered. */
  hang?: { operations?: string[] };
  /** ListEntities of these types ends on a NextToken back to the first page, so it never ends. */
  loopingTokens?: Record<string, true>;
  /** Raw entries appended verbatim to the EntitySummaryList of the first ListEntities page of each type. */
  oddSummaries?: Record<string, Array<Record<string, unknown>>>;
}

export interface AccountSpec {
  accountId: string;
  roles: Array<{ name: string; externalId: string | null }>;
  products?: Product[];
  generate?: Record<string, number>;
  faults?: Faults;
}

export interface EmulatorData {
  accounts: AccountSpec[];
  faults?: Faults;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  accountId: string;
}

interface Account {
  accountId: string;
  roles: Map<string, string | null>;
  productsByType: Map<string, Product[]>;
  productsById: Map<string, Product>;
  faults: Faults;
  /** Absolute, so an outage lasts durationMs from when it was set however often other faults change. */
  outageEndsAt?: number;
  throttleDebt: number;
  issued: IssuedCredentials[];
}

type Counters = Record<string, number>;
type CounterKind = 'calls' | 'throttled' | 'errors' | 'hung';

const ADJECTIVES = ['Acme', 'Nimbus', 'Atlas', 'Vector', 'Harbor', 'Summit', 'Quartz', 'Beacon', 'Cobalt', 'Orbit'];
const NOUNS = ['Observability', 'Data Lake', 'Firewall', 'Backup', 'Analytics', 'Identity', 'Search', 'Billing'];
const VISIBILITIES = ['Public', 'Limited', 'Restricted', 'Draft'];

/** Deterministic products, so a benchmark or a test can ask for thousands without shipping them. */
export function generateProducts(accountId: string, entityType: string, count: number): Product[] {
  return Array.from({ length: count }, (_, i) => {
    const digest = createHash('sha1').update(`${accountId}/${entityType}/${i}`).digest();
    const id = [...digest.subarray(0, 13)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
    return {
      entityType,
      entityId: `prod-${id}`,
      name: `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]} ${entityType.replace('Product', '')} ${i}`,
      visibility: VISIBILITIES[i % VISIBILITIES.length]!,
      lastModified: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const PRODUCT_FIELDS = ['entityType', 'entityId', 'name', 'visibility', 'lastModified', 'details'];

function checkProduct(p: Product): void {
  for (const key of ['entityType', 'entityId', 'name', 'visibility', 'lastModified'] as const) {
    if (typeof p?.[key] !== 'string') throw new Error(`product ${JSON.stringify(p)} needs a string ${key}`);
  }
  const unknown = Object.keys(p).filter((k) => !PRODUCT_FIELDS.includes(k));
  if (unknown.length > 0) throw new Error(`product ${p.entityId}: unknown field(s) ${unknown.join(', ')}`);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(p.lastModified)) {
    throw new Error(`product ${p.entityId}: lastModified must look like 2026-01-31T12:00:00Z`);
  }
  if (p.details !== undefined && !isObject(p.details))
    throw new Error(`product ${p.entityId}: details must be an object (the whole DetailsDocument)`);
}

function checkInjectedErrors(fault: string, errors: unknown): void {
  if (!isObject(errors)) throw new Error(`${fault} must be an object of { code, message? }`);
  for (const [key, e] of Object.entries(errors)) {
    if (!isObject(e) || typeof e.code !== 'string' || e.code === '')
      throw new Error(`${fault}.${key}.code is required`);
    if (e.message !== undefined && typeof e.message !== 'string')
      throw new Error(`${fault}.${key}.message must be a string`);
    const extra = Object.keys(e).filter((k) => k !== 'code' && k !== 'message');
    if (extra.length > 0) throw new Error(`unknown ${fault}.${key} field(s): ${extra.join(', ')}`);
  }
}

function checkOperations(fault: string, operations: unknown): void {
  if (operations === undefined) return;
  if (!Array.isArray(operations) || operations.some((op) => !OPERATIONS.includes(op as string)))
    throw new Error(`${fault}.operations must be an array of ${OPERATIONS.join(', ')}`);
}

/** Rejects a fault the server could not honour, so a typo in a test fails loudly instead of doing nothing. */
function checkFaults(faults: object): Faults {
  const {
    latencyMs,
    throttleRate,
    entityTypeErrors,
    describeErrors,
    denyAssumeRole,
    outage,
    hang,
    loopingTokens,
    oddSummaries,
    ...rest
  } = faults as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`unknown fault(s): ${unknown.join(', ')}`);
  if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !(latencyMs >= 0)))
    throw new Error('latencyMs must be a number >= 0');
  if (throttleRate !== undefined && (typeof throttleRate !== 'number' || !(throttleRate >= 0 && throttleRate <= 1)))
    throw new Error('throttleRate must be a number in 0..1');
  if (denyAssumeRole !== undefined && typeof denyAssumeRole !== 'boolean')
    throw new Error('denyAssumeRole must be a boolean');
  if (entityTypeErrors !== undefined) {
    if (!entityTypeErrors || typeof entityTypeErrors !== 'object')
      throw new Error('entityTypeErrors must be an object');
    for (const [type, e] of Object.entries(entityTypeErrors)) {
      if (typeof (e as { code?: unknown })?.code !== 'string')
        throw new Error(`entityTypeErrors.${type}.code is required`);
    }
  }
  if (describeErrors !== undefined) checkInjectedErrors('describeErrors', describeErrors);
  if (outage !== undefined) {
    if (!isObject(outage)) throw new Error('outage must be { durationMs, status, operations? }');
    const { durationMs, status, operations, ...extra } = outage;
    if (Object.keys(extra).length > 0) throw new Error(`unknown outage field(s): ${Object.keys(extra).join(', ')}`);
    if (typeof durationMs !== 'number' || !(durationMs >= 0))
      throw new Error('outage.durationMs must be a number >= 0');
    if (!OUTAGE_STATUSES.includes(status as number))
      throw new Error(`outage.status must be one of ${OUTAGE_STATUSES.join(', ')}`);
    checkOperations('outage', operations);
  }
  if (hang !== undefined) {
    if (!isObject(hang)) throw new Error('hang must be { operations? }');
    const { operations, ...extra } = hang;
    if (Object.keys(extra).length > 0) throw new Error(`unknown hang field(s): ${Object.keys(extra).join(', ')}`);
    checkOperations('hang', operations);
  }
  if (loopingTokens !== undefined) {
    if (!isObject(loopingTokens) || Object.values(loopingTokens).some((v) => v !== true))
      throw new Error('loopingTokens must be an object of { [entityType]: true }');
  }
  if (oddSummaries !== undefined) {
    if (!isObject(oddSummaries)) throw new Error('oddSummaries must be an object of arrays of objects');
    for (const [type, list] of Object.entries(oddSummaries)) {
      if (!Array.isArray(list) || !list.every(isObject))
        throw new Error(`oddSummaries.${type} must be an array of objects`);
    }
  }
  return faults;
}

function indexProducts(accountId: string, products: Product[]): Pick<Account, 'productsByType' | 'productsById'> {
  const productsByType = new Map<string, Product[]>();
  const productsById = new Map<string, Product>();
  for (const p of products) {
    checkProduct(p);
    if (productsById.has(p.entityId)) throw new Error(`duplicate entityId ${p.entityId} in ${accountId}`);
    productsById.set(p.entityId, p);
    const list = productsByType.get(p.entityType) ?? [];
    list.push(p);
    productsByType.set(p.entityType, list);
  }
  return { productsByType, productsById };
}

const outageEnd = (faults: Faults): number | undefined =>
  faults.outage ? Date.now() + faults.outage.durationMs : undefined;

export class EmulatorState {
  private readonly accounts = new Map<string, Account>();
  private readonly credentials = new Map<string, IssuedCredentials>();
  globalFaults: Faults = {};
  private globalOutageEndsAt?: number;
  private readonly unknownAccounts = { throttleDebt: 0 };
  calls: Counters = {};
  throttled: Counters = {};
  errors: Counters = {};
  hung: Counters = {};
  private byAccount = new Map<string, Record<CounterKind, Counters>>();

  constructor(data?: EmulatorData) {
    if (data) this.load(data);
  }

  load(data: EmulatorData): void {
    for (const spec of data.accounts) this.putAccount(spec);
    if (data.faults) this.setGlobalFaults(data.faults);
  }

  putAccount(spec: AccountSpec): void {
    if (!/^\d{12}$/.test(spec.accountId)) throw new Error(`accountId ${spec.accountId} must be 12 digits`);
    if (!Array.isArray(spec.roles)) throw new Error(`account ${spec.accountId} needs a roles array`);
    for (const r of spec.roles) {
      if (typeof r?.name !== 'string' || !(r.externalId === null || typeof r.externalId === 'string'))
        throw new Error(`account ${spec.accountId}: a role is { name: string, externalId: string | null }`);
    }
    const faults = checkFaults(spec.faults ?? {});
    // Everything is checked before the account is replaced, so a refused spec leaves the old one in place.
    const products = indexProducts(spec.accountId, [
      ...(spec.products ?? []),
      ...Object.entries(spec.generate ?? {}).flatMap(([type, n]) => generateProducts(spec.accountId, type, n)),
    ]);
    this.accounts.set(spec.accountId, {
      accountId: spec.accountId,
      roles: new Map(spec.roles.map((r) => [r.name, r.externalId])),
      ...products,
      faults,
      outageEndsAt: outageEnd(faults),
      throttleDebt: 0,
      issued: this.accounts.get(spec.accountId)?.issued ?? [],
    });
  }

  setProducts(accountId: string, products: Product[]): void {
    const account = this.account(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    Object.assign(account, indexProducts(accountId, products));
  }

  /** Changes one product in place; a null value drops an optional field (`details`). */
  patchProduct(accountId: string, entityId: string, patch: Record<string, unknown>): void {
    const account = this.account(accountId);
    const current = account?.productsById.get(entityId);
    if (!account || !current) throw new Error(`no product ${entityId} in ${accountId}`);
    if ('entityId' in patch || 'entityType' in patch) throw new Error('a product keeps its entityId and entityType');
    const next = { ...current } as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    checkProduct(next as unknown as Product);
    const updated = next as unknown as Product;
    account.productsById.set(entityId, updated);
    const list = account.productsByType.get(updated.entityType)!;
    list[list.indexOf(current)] = updated;
  }

  clear(): void {
    this.accounts.clear();
    this.credentials.clear();
    this.globalFaults = {};
    this.globalOutageEndsAt = undefined;
    this.unknownAccounts.throttleDebt = 0;
    this.resetStats();
  }

  account(accountId: string): Account | undefined {
    return this.accounts.get(accountId);
  }

  patchFaults(accountId: string, patch: Record<string, unknown>): void {
    const account = this.account(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    const faults = { ...account.faults } as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete faults[key];
      else faults[key] = value;
    }
    account.faults = checkFaults(faults);
    if ('outage' in patch) account.outageEndsAt = outageEnd(account.faults);
  }

  setGlobalFaults(faults: object): void {
    this.globalFaults = checkFaults(faults);
    this.globalOutageEndsAt = outageEnd(this.globalFaults);
  }

  faultsFor(accountId: string | undefined): Faults {
    const own = accountId ? this.accounts.get(accountId)?.faults : undefined;
    return { ...this.globalFaults, ...own };
  }

  /** The HTTP status an outage answers this call with, while one covering it lasts. */
  outageStatus(accountId: string | undefined, operation: string): number | undefined {
    const own = accountId ? this.accounts.get(accountId) : undefined;
    // An account's own outage, even an ended one, overrides the global one, as every other fault does.
    const [outage, endsAt] = own?.faults.outage
      ? [own.faults.outage, own.outageEndsAt]
      : [this.globalFaults.outage, this.globalOutageEndsAt];
    if (!outage || endsAt === undefined || Date.now() >= endsAt) return undefined;
    return (outage.operations ?? OPERATIONS).includes(operation) ? outage.status : undefined;
  }

  shouldHang(accountId: string | undefined, operation: string): boolean {
    const hang = this.faultsFor(accountId).hang;
    return hang !== undefined && (hang.operations ?? OPERATIONS).includes(operation);
  }

  /** Error diffusion: exactly `rate` of an account's calls are throttled, spread evenly and reproducibly. */
  shouldThrottle(accountId: string | undefined): boolean {
    const rate = this.faultsFor(accountId).throttleRate ?? 0;
    if (rate <= 0) return false;
    // Calls for unknown accounts (AssumeRole on a missing role) share one counter, still reproducible.
    const holder = (accountId ? this.accounts.get(accountId) : undefined) ?? this.unknownAccounts;
    holder.throttleDebt += rate;
    if (holder.throttleDebt >= 1 - 1e-9) {
      holder.throttleDebt -= 1;
      return true;
    }
    return false;
  }

  issue(accountId: string, durationSeconds: number): IssuedCredentials {
    const creds: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(12)
        .toString('base64url')
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, 'X')
        .slice(0, 16)}`,
      secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
      sessionToken: randomBytes(180).toString('base64'),
      expiration: new Date(Date.now() + durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      accountId,
    };
    this.credentials.set(creds.accessKeyId, creds);
    this.account(accountId)?.issued.push(creds);
    return creds;
  }

  credentialsFor(accessKeyId: string): IssuedCredentials | undefined {
    return this.credentials.get(accessKeyId);
  }

  issuedFor(accountId: string): IssuedCredentials[] {
    return this.account(accountId)?.issued ?? [];
  }

  count(kind: CounterKind, operation: string, accountId: string | undefined): void {
    this[kind][operation] = (this[kind][operation] ?? 0) + 1;
    if (!accountId) return;
    let stats = this.byAccount.get(accountId);
    if (!stats) {
      stats = { calls: {}, throttled: {}, errors: {}, hung: {} };
      this.byAccount.set(accountId, stats);
    }
    stats[kind][operation] = (stats[kind][operation] ?? 0) + 1;
  }

  stats() {
    return {
      calls: this.calls,
      throttled: this.throttled,
      errors: this.errors,
      hung: this.hung,
      byAccount: Object.fromEntries(this.byAccount),
    };
  }

  resetStats(): void {
    this.calls = {};
    this.throttled = {};
    this.errors = {};
    this.hung = {};
    this.byAccount = new Map();
  }
}
