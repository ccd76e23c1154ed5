import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failures.ts';

interface AwsError {
  name?: string;
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

function message(err: unknown): string {
  return (err as AwsError | null)?.message ?? String(err);
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

export function isThrottling(err: unknown): boolean {
  return THROTTLING.has(awsErrorName(err)) || status(err) === 429;
}

/** Credentials the Catalog API no longer accepts: the cached session must go and the role be assumed again. */
export function isRejectedCredentials(err: unknown): boolean {
  return ['UnrecognizedClientException', 'ExpiredTokenException', 'InvalidClientTokenId'].includes(awsErrorName(err));
}

/** STS AssumeRole failures, named for the person who has to fix them. */
export function assumeRoleFailure(err: unknown, roleArn: string): ApplicationFailure {
  const name = awsErrorName(err);
  if (name === 'AccessDenied' || status(err) === 403) {
    return ApplicationFailure.create({
      type: FailureType.AssumeRoleDenied,
      nonRetryable: true,
      message:
        `AWS denied AssumeRole on ${roleArn}: the role's trust policy does not trust the listing-sync principal, ` +
        `or the external ID does not match its sts:ExternalId condition. The seller should check the role's trust ` +
        `policy (README, "The IAM role"). AWS said: ${message(err)}`,
    });
  }
  if (name === 'ValidationError' || name === 'MalformedPolicyDocument' || name === 'RegionDisabledException') {
    return ApplicationFailure.create({
      type: FailureType.InvalidConnection,
      nonRetryable: true,
      message: `STS rejected AssumeRole on ${roleArn}: ${message(err)}`,
    });
  }
  return ApplicationFailure.create({
    type: FailureType.StsUnavailable,
    message: `STS AssumeRole on ${roleArn} failed (${name}${isThrottling(err) ? ', throttled' : ''}); will retry: ${message(err)}`,
  });
}

/** Catalog API failures other than the per-type "unsupported" answer, which the caller handles. */
export function catalogFailure(err: unknown, operation: string, entityType: string): ApplicationFailure {
  const name = awsErrorName(err);
  const code = status(err);
  const what = `${operation} ${entityType}`;
  if (isThrottling(err)) {
    return ApplicationFailure.create({
      type: FailureType.CatalogThrottled,
      message: `${what} was throttled by AWS (account quota: 10 ListEntities/s); will retry with backoff`,
    });
  }
  if (name === 'AccessDeniedException' || code === 403) {
    return ApplicationFailure.create({
      type: FailureType.CatalogAccessDenied,
      nonRetryable: !isRejectedCredentials(err),
      message:
        `${what} was denied: the assumed role lacks aws-marketplace:ListEntities (see the permission policy in ` +
        `README, "The IAM role"). AWS said: ${message(err)}`,
    });
  }
  if (code !== undefined && code >= 400 && code < 500) {
    return ApplicationFailure.create({
      type: FailureType.CatalogRequestRejected,
      nonRetryable: true,
      message: `${what} was rejected by AWS (${name}): ${message(err)}`,
    });
  }
  return ApplicationFailure.create({
    type: FailureType.CatalogUnavailable,
    message: `${what} failed (${name}${code ? ` ${code}` : ''}); will retry: ${message(err)}`,
  });
}
