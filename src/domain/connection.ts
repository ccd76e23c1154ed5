// STS's own constraints, checked before any AWS call so a malformed connection fails with a
// message naming the field instead of a generic ValidationError from STS.
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
// The Marketplace Catalog API exists only in the commercial partition; a role elsewhere can never list products.
const CATALOG_PARTITION = 'aws';
export const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SESSION_NAME_UNSAFE = /[^\w+=,.@-]/g;

export interface ConnectionDoc {
  _id: unknown;
  team_id?: unknown;
  provider?: unknown;
  iam_role_arn?: unknown;
  external_id?: unknown;
  aws_account_id?: unknown;
  disabled?: unknown;
}

export interface ValidConnection {
  connectionId: string;
  teamId: string;
  roleArn: string;
  externalId: string;
  accountId: string;
}

export type ConnectionCheck = { ok: true; connection: ValidConnection } | { ok: false; problems: string[] };

export function validateConnection(doc: ConnectionDoc): ConnectionCheck {
  const problems: string[] = [];
  const connectionId = String(doc._id);
  const teamId = idString(doc.team_id);
  if (!teamId) problems.push('team_id is missing');
  if (doc.provider !== 'aws') problems.push(`provider is ${JSON.stringify(doc.provider ?? null)}, expected "aws"`);

  const roleArn = typeof doc.iam_role_arn === 'string' ? doc.iam_role_arn.trim() : '';
  const arnMatch = ROLE_ARN.exec(roleArn);
  if (!roleArn) problems.push('iam_role_arn is missing');
  else if (!arnMatch)
    problems.push(`iam_role_arn "${roleArn}" is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)`);
  else if (arnMatch[1] !== CATALOG_PARTITION)
    problems.push(
      `iam_role_arn "${roleArn}" is in the ${arnMatch[1]} partition, but the AWS Marketplace Catalog API exists only ` +
        `in the aws partition: the seller needs a role in their commercial (arn:aws:…) account`,
    );

  const externalId = typeof doc.external_id === 'string' ? doc.external_id : '';
  if (!externalId) problems.push('external_id is missing');
  else if (!EXTERNAL_ID.test(externalId)) {
    problems.push('external_id must be 2-1224 characters of letters, digits and +=,.@:/-');
  }

  const accountId = arnMatch?.[2] ?? '';
  const declaredAccount = idString(doc.aws_account_id);
  if (declaredAccount && accountId && declaredAccount !== accountId) {
    problems.push(`aws_account_id ${declaredAccount} does not match the role ARN's account ${accountId}`);
  }

  if (problems.length > 0 || !teamId) return { ok: false, problems };
  return { ok: true, connection: { connectionId, teamId, roleArn, externalId, accountId } };
}

/** STS allows 2-64 characters of [\w+=,.@-]; the name shows in the seller's CloudTrail, so it names us and the connection. */
export function roleSessionName(connectionId: string): string {
  const safe = connectionId.replace(SESSION_NAME_UNSAFE, '-');
  return `listing-sync-${safe}`.slice(0, 64);
}

/** Ids arrive as strings, numbers or ObjectIds (anything with toHexString). */
function idString(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value && typeof (value as { toHexString?: unknown }).toHexString === 'function') {
    return (value as { toHexString(): string }).toHexString();
  }
  return null;
}
