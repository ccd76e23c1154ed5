import { randomUUID } from 'node:crypto';
import type { Reply } from './http.ts';
import type { EmulatorState } from './state.ts';

const VENDOR_PRINCIPAL = 'arn:aws:iam::000000000000:user/listing-sync';
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

function xml(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/xml', 'x-amzn-RequestId': randomUUID() }, body };
}

function escape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function stsError(status: number, code: string, message: string, type = 'Sender'): Reply {
  return xml(
    status,
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code>` +
      `<Message>${escape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}

export function stsInternalFailure(): Reply {
  return stsError(
    500,
    'InternalFailure',
    'The request processing has failed because of an unknown error, exception or failure.',
    'Receiver',
  );
}

/** The account an AssumeRole request targets, for faults and stats; undefined when the ARN is malformed. */
export function stsAccount(params: URLSearchParams): string | undefined {
  return ROLE_ARN.exec(params.get('RoleArn') ?? '')?.[1];
}

export function assumeRole(state: EmulatorState, params: URLSearchParams, authorization?: string): Reply {
  // The vendor's own signature is not checked (its secret is not the emulator's to know), only its presence.
  if (!authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
    return stsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  }
  if (params.get('Version') !== '2011-06-15') {
    return stsError(400, 'InvalidAction', `Could not find operation for version ${params.get('Version') ?? '(none)'}`);
  }
  if (params.get('Action') !== 'AssumeRole') {
    return stsError(
      400,
      'InvalidAction',
      `Could not find operation ${params.get('Action') ?? ''} for version 2011-06-15`,
    );
  }
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  const externalId = params.get('ExternalId');
  const duration = Number(params.get('DurationSeconds') ?? 3600);
  const problems: string[] = [];
  // Worded like STS's own validation messages, one per failed constraint.
  const check = (ok: boolean, field: string, value: string | null, constraint: string) => {
    if (!ok)
      problems.push(
        `Value ${value === null ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
      );
  };
  check(roleArn.length >= 20, 'roleArn', roleArn, 'Member must have length greater than or equal to 20');
  check(roleArn.length <= 2048, 'roleArn', roleArn, 'Member must have length less than or equal to 2048');
  check(sessionName.length >= 2, 'roleSessionName', sessionName, 'Member must have length greater than or equal to 2');
  check(sessionName.length <= 64, 'roleSessionName', sessionName, 'Member must have length less than or equal to 64');
  check(
    /^[\w+=,.@-]*$/.test(sessionName),
    'roleSessionName',
    sessionName,
    'Member must satisfy regular expression pattern: [\\w+=,.@-]*',
  );
  if (externalId !== null) {
    check(externalId.length >= 2, 'externalId', externalId, 'Member must have length greater than or equal to 2');
    check(externalId.length <= 1224, 'externalId', externalId, 'Member must have length less than or equal to 1224');
    check(
      /^[\w+=,.@:/-]*$/.test(externalId),
      'externalId',
      externalId,
      'Member must satisfy regular expression pattern: [\\w+=,.@:/-]*',
    );
  }
  check(
    Number.isInteger(duration) && duration >= 900,
    'durationSeconds',
    String(duration),
    'Member must have value greater than or equal to 900',
  );
  check(duration <= 43200, 'durationSeconds', String(duration), 'Member must have value less than or equal to 43200');
  if (problems.length > 0) {
    const n = problems.length;
    return stsError(
      400,
      'ValidationError',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
    );
  }

  const match = ROLE_ARN.exec(roleArn);
  const denied = stsError(
    403,
    'AccessDenied',
    `User: ${VENDOR_PRINCIPAL} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
  );
  if (!match) return stsError(400, 'ValidationError', `${roleArn} is invalid`);
  const [, accountId, roleName] = match as unknown as [string, string, string];
  const account = state.account(accountId);
  if (!account || !account.roles.has(roleName) || state.faultsFor(accountId).denyAssumeRole) return denied;
  const trusted = account.roles.get(roleName) ?? null;
  if (trusted !== externalId && !(trusted === null && externalId === null)) return denied;

  const creds = state.issue(accountId, duration);
  return xml(
    200,
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
      `<SourceIdentity/><AssumedRoleUser><AssumedRoleId>AROA${accountId}:${escape(sessionName)}</AssumedRoleId>` +
      `<Arn>arn:aws:sts::${accountId}:assumed-role/${escape(roleName)}/${escape(sessionName)}</Arn></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${creds.sessionToken}</SessionToken><Expiration>${creds.expiration}</Expiration></Credentials>` +
      `<PackedPolicySize>0</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId>` +
      `</ResponseMetadata></AssumeRoleResponse>`,
  );
}
