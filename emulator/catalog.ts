import type { IncomingHttpHeaders } from 'node:http';
import { awsJsonError, json, type Reply } from './http.ts';
import { ENTITY_TYPES, type EmulatorState, type Product } from './state.ts';

const CATALOG = 'AWSMarketplace';
const ERROR_STATUS: Record<string, number> = {
  ValidationException: 422,
  AccessDeniedException: 403,
  ThrottlingException: 429,
  InternalServiceException: 500,
  ResourceNotFoundException: 404,
  ResourceNotSupportedException: 415,
  ResourceInUseException: 423,
  ServiceQuotaExceededException: 402,
};

export function catalogError(code: string, message?: string): Reply {
  return awsJsonError(ERROR_STATUS[code] ?? 400, code, message ?? `${code} (emulated)`);
}

/** The account a signed request acts for, from the access key the emulator's STS issued. */
export function authenticate(state: EmulatorState, headers: IncomingHttpHeaders): { accountId: string } | Reply {
  const auth = headers.authorization ?? '';
  const accessKeyId = /Credential=([^/]+)\//.exec(auth)?.[1];
  const creds = accessKeyId ? state.credentialsFor(accessKeyId) : undefined;
  if (!creds || headers['x-amz-security-token'] !== creds.sessionToken) {
    return awsJsonError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (Date.parse(creds.expiration) <= Date.now()) {
    return awsJsonError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
  }
  return { accountId: creds.accountId };
}

function summary(accountId: string, p: Product) {
  return {
    Name: p.name,
    EntityType: p.entityType,
    EntityId: p.entityId,
    EntityArn: `arn:aws:aws-marketplace:us-east-1:${accountId}:${CATALOG}/${p.entityType}/${p.entityId}`,
    LastModifiedDate: p.lastModified,
    Visibility: p.visibility,
  };
}

function details(accountId: string, p: Product) {
  return {
    EntityType: `${p.entityType}@1.0`,
    EntityIdentifier: `${p.entityId}@${Math.max(1, Math.floor(Date.parse(p.lastModified) / 86_400_000) % 97)}`,
    EntityArn: summary(accountId, p).EntityArn,
    LastModifiedDate: p.lastModified,
    DetailsDocument: { Description: { ProductTitle: p.name, Visibility: p.visibility } },
  };
}

function encodeToken(accountId: string, type: string, offset: number): string {
  return Buffer.from(JSON.stringify({ a: accountId, t: type, o: offset })).toString('base64url');
}

function decodeToken(token: string): { a: string; t: string; o: number } | null {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString()) as { a: string; t: string; o: number };
    return typeof value.o === 'number' ? value : null;
  } catch {
    return null;
  }
}

export function listEntities(state: EmulatorState, accountId: string, body: Record<string, unknown>): Reply {
  const type = body.EntityType;
  if (body.Catalog !== CATALOG) return catalogError('ValidationException', `Catalog must be ${CATALOG}`);
  if (typeof type !== 'string' || !/^[a-zA-Z]+$/.test(type))
    return catalogError('ValidationException', 'EntityType is required');
  const injected = state.faultsFor(accountId).entityTypeErrors?.[type];
  if (injected) return catalogError(injected.code, injected.message);
  if (!ENTITY_TYPES.includes(type)) return catalogError('ValidationException', `Unsupported EntityType ${type}`);
  const max = body.MaxResults === undefined ? 20 : Number(body.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > 50) {
    return catalogError(
      'ValidationException',
      `1 validation error detected: Value '${String(body.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50`,
    );
  }
  let offset = 0;
  if (body.NextToken !== undefined) {
    const token = typeof body.NextToken === 'string' ? decodeToken(body.NextToken) : null;
    if (!token || token.a !== accountId || token.t !== type)
      return catalogError('ValidationException', 'The NextToken is invalid');
    offset = token.o;
  }
  const ownership = body.OwnershipType ?? 'SELF';
  if (ownership !== 'SELF' && ownership !== 'SHARED')
    return catalogError('ValidationException', `Invalid OwnershipType ${JSON.stringify(ownership)}`);

  let products = ownership === 'SELF' ? (state.account(accountId)?.productsByType.get(type) ?? []) : [];
  const sort = body.Sort as { SortBy?: string; SortOrder?: string } | undefined;
  if (sort?.SortBy) {
    const key = { LastModifiedDate: 'lastModified', Name: 'name', EntityId: 'entityId' }[sort.SortBy] as
      keyof Product | undefined;
    if (!key) return catalogError('ValidationException', `Invalid SortBy ${sort.SortBy}`);
    const dir = sort.SortOrder === 'DESCENDING' ? -1 : 1;
    products = [...products].sort((x, y) => (x[key] < y[key] ? -dir : x[key] > y[key] ? dir : 0));
  }
  const page = products.slice(offset, offset + max);
  const next = offset + max < products.length ? encodeToken(accountId, type, offset + max) : undefined;
  return json(200, { EntitySummaryList: page.map((p) => summary(accountId, p)), ...(next ? { NextToken: next } : {}) });
}

function findProduct(state: EmulatorState, accountId: string, entityId: string): Product | undefined {
  for (const list of state.account(accountId)?.productsByType.values() ?? []) {
    const found = list.find((p) => p.entityId === entityId);
    if (found) return found;
  }
  return undefined;
}

export function describeEntity(state: EmulatorState, accountId: string, query: URLSearchParams): Reply {
  if (query.get('catalog') !== CATALOG) return catalogError('ValidationException', `catalog must be ${CATALOG}`);
  const entityId = query.get('entityId') ?? '';
  const product = findProduct(state, accountId, entityId);
  if (!product) return catalogError('ResourceNotFoundException', `Entity ${entityId} not found`);
  return json(200, details(accountId, product));
}

export function batchDescribeEntities(state: EmulatorState, accountId: string, body: Record<string, unknown>): Reply {
  const requests = body.EntityRequestList;
  if (!Array.isArray(requests) || requests.length < 1 || requests.length > 20) {
    return catalogError('ValidationException', 'EntityRequestList must have 1 to 20 entries');
  }
  const EntityDetails: Record<string, unknown> = {};
  const Errors: Record<string, unknown> = {};
  for (const r of requests as Array<{ Catalog?: string; EntityId?: string }>) {
    const id = r.EntityId ?? '';
    const product = r.Catalog === CATALOG ? findProduct(state, accountId, id) : undefined;
    if (product) {
      const { EntityType, EntityArn, EntityIdentifier, LastModifiedDate, DetailsDocument } = details(
        accountId,
        product,
      );
      EntityDetails[id] = { EntityType, EntityArn, EntityIdentifier, LastModifiedDate, DetailsDocument };
    } else {
      Errors[id] = { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Entity ${id} not found` };
    }
  }
  return json(200, { EntityDetails, Errors });
}
