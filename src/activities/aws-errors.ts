import { ApplicationFailure } from '@temporalio/common';
import { FailureType, syncFailure } from '../shared/failures.ts';

interface AwsError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

export function awsErrorName(err: unknown): string {
  return (err as AwsError | null)?.name ?? 'Error';
}

function status(err: unknown): number | undefined {
  return (err as AwsError | null)?.$metadata?.httpStatusCode;
}

const MAX_AWS_MESSAGE = 300;

/** AWS's own words, cut short: a proxy's HTML error page must not flood a log line or connections.sync. */
function message(err: unknown): string {
  const text = ((err as AwsError | null)?.message ?? String(err)).replace(/\s+/g, ' ').trim();
  return text.length > MAX_AWS_MESSAGE ? `${text.slice(0, MAX_AWS_MESSAGE)}…` : text;
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

export function isThrottling(err: unknown): boolean {
  return THROTTLING.has(awsErrorName(err)) || status(err) === 429;
}

/** The endpoint never answered: a client-side timeout, or the activity was cancelled (timed out) mid-request. */
export function isNoAnswer(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === 'TimeoutError' || name === 'AbortError' || NETWORK_CODES.has((err as AwsError | null)?.code ?? '');
}

/** Credentials the Catalog API no longer accepts: the cached session must go and the role be assumed again. */
export function isRejectedCredentials(err: unknown): boolean {
  return ['UnrecognizedClientException', 'ExpiredTokenException', 'InvalidClientTokenId'].includes(awsErrorName(err));
}

/**
 * The role session stopped being accepted mid-step (it expired, or AWS revoked it): retried with a fresh session —
 * the caller forgets the cached one — and never reported as a permission problem of the seller's role.
 */
export function rejectedSessionFailure(err: unknown, what: string): ApplicationFailure {
  return syncFailure(
    FailureType.CatalogUnavailable,
    `AWS stopped accepting the role session while ${what} (${awsErrorName(err)}); retried with a fresh session`,
  );
}

function cause(err: unknown): string {
  if (isNoAnswer(err)) return `the endpoint did not answer (${message(err)})`;
  const code = status(err);
  return `${awsErrorName(err)}${code ? ` ${code}` : ''}: ${message(err)}`;
}

/** STS AssumeRole failures, named for the person who has to fix them. */
export function assumeRoleFailure(err: unknown, roleArn: string): ApplicationFailure {
  const name = awsErrorName(err);
  if (name === 'AccessDenied' || status(err) === 403) {
    return syncFailure(
      FailureType.AssumeRoleDenied,
      `AWS denied AssumeRole on ${roleArn}: the role's trust policy does not trust the listing-sync principal, ` +
        `or the external ID does not match its sts:ExternalId condition. The seller should check the role's trust ` +
        `policy (docs/events-and-onboarding.md, "The IAM role the seller creates"). AWS said: ${message(err)}`,
    );
  }
  if (name === 'ValidationError' || name === 'MalformedPolicyDocument' || name === 'RegionDisabledException') {
    return syncFailure(FailureType.InvalidConnection, `STS rejected AssumeRole on ${roleArn}: ${message(err)}`);
  }
  return syncFailure(
    FailureType.StsUnavailable,
    `STS AssumeRole on ${roleArn} failed${isThrottling(err) ? ' (throttled)' : ''}: ${cause(err)}`,
  );
}

// BatchDescribeEntities is authorised by the DescribeEntity IAM action.
const PERMISSION: Record<string, string> = { ListEntities: 'ListEntities', BatchDescribeEntities: 'DescribeEntity' };
const QUOTA: Record<string, string> = {
  ListEntities: '10 ListEntities/s',
  BatchDescribeEntities: '20 DescribeEntity/s',
};

/**
 * Catalog API failures other than the per-type "unsupported" answer, which the caller handles. A caller that sees
 * isRejectedCredentials also forgets the cached session, so the retry assumes the role again.
 */
export function catalogFailure(err: unknown, operation: string, entityType: string): ApplicationFailure {
  const name = awsErrorName(err);
  const code = status(err);
  const what = `${operation} ${entityType}`;
  // An expired or revoked session is never the seller's permission problem (a 403 with one of these names).
  if (isRejectedCredentials(err)) return rejectedSessionFailure(err, what);
  if (isThrottling(err)) {
    return syncFailure(
      FailureType.CatalogThrottled,
      `${what} was throttled by AWS (account quota: ${QUOTA[operation] ?? "see the account's Service Quotas"}): ${message(err)}`,
    );
  }
  if (name === 'AccessDeniedException' || code === 403) {
    return syncFailure(
      FailureType.CatalogAccessDenied,
      `${what} was denied: the assumed role lacks aws-marketplace:${PERMISSION[operation] ?? operation} (see the permission policy in ` +
        `docs/events-and-onboarding.md, "The IAM role the seller creates"). AWS said: ${message(err)}`,
    );
  }
  // A 4xx with a modeled AWS error is AWS refusing this request; a bare one (no x-amzn-ErrorType) came
  // from something in between and says nothing about the request.
  if (code !== undefined && code >= 400 && code < 500 && (err as AwsError).$fault === 'client' && name !== 'Error') {
    return syncFailure(FailureType.CatalogRequestRejected, `${what} was rejected by AWS (${name}): ${message(err)}`);
  }
  return syncFailure(FailureType.CatalogUnavailable, `${what} failed: ${cause(err)}`);
}
