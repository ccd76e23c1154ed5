import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { awsJsonError, json, type Reply } from './http.ts';
import { parseAuthorization, signatureMatches } from './sigv4.ts';
import { detailsDocument } from './details.ts';
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

const ok = (body: unknown) => json(200, body, { 'x-amzn-RequestId': randomUUID() });

/**
 * The account a signed request acts for: the access key must be one the emulator's STS issued, sent with its
 * session token, unexpired, and the SigV4 signature must verify with the issued secret.
 */
export function authenticate(state: EmulatorState, req: IncomingMessage, body: string): { accountId: string } | Reply {
  const { headers } = req;
  if (!headers.authorization) {
    return awsJsonError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const auth = parseAuthorization(headers.authorization);
  const creds = auth ? state.credentialsFor(auth.accessKeyId) : undefined;
  if (!auth || !creds || headers['x-amz-security-token'] !== creds.sessionToken) {
    return awsJsonError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (Date.parse(creds.expiration) <= Date.now()) {
    return awsJsonError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
  }
  if (!signatureMatches(auth, creds.secretAccessKey, req.method ?? 'GET', req.url ?? '/', headers, body)) {
    return awsJsonError(
      403,
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
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

/**
 * Strictly increasing with lastModified, so any change of the product is a new revision, as on AWS where
 * every change set that touches an entity gives it a new one.
 */
const revision = (p: Product) => Math.floor(Date.parse(p.lastModified) / 1000);

function entityDetail(accountId: string, p: Product) {
  return {
    EntityType: `${p.entityType}@1.0`,
    EntityArn: summary(accountId, p).EntityArn,
    EntityIdentifier: `${p.entityId}@${revision(p)}`,
    LastModifiedDate: p.lastModified,
    DetailsDocument: detailsDocument(accountId, p),
  };
}

interface PageToken {
  a: string;
  t: string;
  s: string;
  o: number;
}

// The token names the account, type and sort it was issued for, so a token replayed elsewhere is refused.
function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(token: string): PageToken | null {
  if (token.length === 0 || token.length > 2048) return null;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString()) as PageToken;
    return Number.isInteger(value?.o) && value.o >= 0 ? value : null;
  } catch {
    return null;
  }
}

const SORT_KEYS = new Map<unknown, 'lastModified' | 'name' | 'entityId'>([
  ['LastModifiedDate', 'lastModified'],
  ['Name', 'name'],
  ['EntityId', 'entityId'],
]);

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
  const ownership = body.OwnershipType ?? 'SELF';
  if (ownership !== 'SELF' && ownership !== 'SHARED')
    return catalogError('ValidationException', `Invalid OwnershipType ${JSON.stringify(ownership)}`);
  const sort = (body.Sort ?? {}) as { SortBy?: unknown; SortOrder?: unknown };
  const sortKey = SORT_KEYS.get(sort.SortBy);
  if (sort.SortBy !== undefined && !sortKey)
    return catalogError('ValidationException', `Invalid SortBy ${JSON.stringify(sort.SortBy)}`);
  if (sort.SortOrder !== undefined && sort.SortOrder !== 'ASCENDING' && sort.SortOrder !== 'DESCENDING')
    return catalogError('ValidationException', `Invalid SortOrder ${JSON.stringify(sort.SortOrder)}`);
  const sortTag = sortKey ? `${sortKey}:${sort.SortOrder === 'DESCENDING' ? 'D' : 'A'}` : '';

  let offset = 0;
  if (body.NextToken !== undefined && body.NextToken !== null) {
    const token = typeof body.NextToken === 'string' ? decodeToken(body.NextToken) : null;
    if (!token || token.a !== accountId || token.t !== type || token.s !== sortTag)
      return catalogError('ValidationException', 'The NextToken is invalid');
    offset = token.o;
  }

  let products = ownership === 'SELF' ? (state.account(accountId)?.productsByType.get(type) ?? []) : [];
  if (sortKey) {
    const dir = sort.SortOrder === 'DESCENDING' ? -1 : 1;
    // Ties break on EntityId so pages never overlap or skip when many products share a date.
    products = [...products].sort((x, y) => {
      const a = x[sortKey];
      const b = y[sortKey];
      if (a !== b) return a < b ? -dir : dir;
      return x.entityId < y.entityId ? -1 : x.entityId > y.entityId ? 1 : 0;
    });
  }
  const faults = state.faultsFor(accountId);
  const page: unknown[] = products.slice(offset, offset + max).map((p) => summary(accountId, p));
  if (offset === 0) page.push(...(faults.oddSummaries?.[type] ?? []));
  let next: string | undefined;
  if (offset + max < products.length) next = encodeToken({ a: accountId, t: type, s: sortTag, o: offset + max });
  // A looping listing ends by pointing back at its own first page, a token the client has already sent.
  else if (faults.loopingTokens?.[type]) next = encodeToken({ a: accountId, t: type, s: sortTag, o: 0 });
  return ok({ EntitySummaryList: page, ...(next ? { NextToken: next } : {}) });
}

function findProduct(state: EmulatorState, accountId: string, entityId: string): Product | undefined {
  return state.account(accountId)?.productsById.get(entityId);
}

// EntityRequest's documented constraints.
const CATALOG_PATTERN = /^[a-zA-Z]+$/;
const ENTITY_ID_PATTERN = /^[a-zA-Z0-9][.a-zA-Z0-9/-]+[a-zA-Z0-9]$/;
const BATCH_MAX = 20;

const validationError = (value: unknown, at: string, constraint: string) =>
  catalogError(
    'ValidationException',
    `1 validation error detected: Value '${typeof value === 'string' ? value : JSON.stringify(value)}' at '${at}' failed to satisfy constraint: ${constraint}`,
  );

export function describeEntity(state: EmulatorState, accountId: string, query: URLSearchParams): Reply {
  if (query.get('catalog') !== CATALOG) return catalogError('ValidationException', `catalog must be ${CATALOG}`);
  const entityId = query.get('entityId');
  if (!entityId || entityId.length > 255 || !/^[\w-]+$/.test(entityId))
    return validationError(
      entityId ?? 'null',
      'entityId',
      'Member must satisfy regular expression pattern: ^[\\w\\-]+$',
    );
  const injected = state.faultsFor(accountId).describeErrors?.[entityId];
  if (injected) return catalogError(injected.code, injected.message);
  const product = findProduct(state, accountId, entityId);
  if (!product) return catalogError('ResourceNotFoundException', `Entity ${entityId} not found`);
  const detail = entityDetail(accountId, product);
  // DescribeEntity also carries the legacy Details: the same document as a string.
  return ok({ ...detail, Details: JSON.stringify(detail.DetailsDocument) });
}

export function batchDescribeEntities(state: EmulatorState, accountId: string, body: Record<string, unknown>): Reply {
  const requests = body.EntityRequestList;
  if (!Array.isArray(requests)) return validationError('null', 'entityRequestList', 'Member must not be null');
  if (requests.length < 1 || requests.length > BATCH_MAX) {
    const bound = requests.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${BATCH_MAX}`;
    return validationError(`[${requests.length} entries]`, 'entityRequestList', `Member must have length ${bound}`);
  }
  for (const [i, r] of requests.entries()) {
    const { Catalog, EntityId } = (r ?? {}) as { Catalog?: unknown; EntityId?: unknown };
    if (typeof Catalog !== 'string' || !CATALOG_PATTERN.test(Catalog) || Catalog.length > 64)
      return validationError(
        Catalog ?? 'null',
        `entityRequestList.${i + 1}.member.catalog`,
        'Member must not be null and must satisfy regular expression pattern: ^[a-zA-Z]+$',
      );
    if (Catalog !== CATALOG)
      return catalogError('ValidationException', `Catalog ${Catalog} is not supported; use ${CATALOG}`);
    if (typeof EntityId !== 'string' || !ENTITY_ID_PATTERN.test(EntityId) || EntityId.length > 255)
      return validationError(
        EntityId ?? 'null',
        `entityRequestList.${i + 1}.member.entityId`,
        'Member must not be null and must satisfy regular expression pattern: ^[a-zA-Z0-9][.a-zA-Z0-9/-]+[a-zA-Z0-9]$',
      );
  }
  const injected = state.faultsFor(accountId).describeErrors ?? {};
  const EntityDetails: Record<string, unknown> = {};
  const Errors: Record<string, unknown> = {};
  for (const { EntityId: id } of requests as Array<{ EntityId: string }>) {
    const error = injected[id];
    const product = error ? undefined : findProduct(state, accountId, id);
    if (error) Errors[id] = { ErrorCode: error.code, ErrorMessage: error.message ?? `${error.code} (emulated)` };
    else if (product) EntityDetails[id] = entityDetail(accountId, product);
    else Errors[id] = { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Entity ${id} not found` };
  }
  return ok({ EntityDetails, Errors });
}
