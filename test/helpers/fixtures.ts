import type { Db } from 'mongodb';
import { emulator, makeProducts, uniqueAccountId, type EmulatorProduct } from './emulator.ts';

export interface SeededConnection {
  connectionId: string;
  teamId: string;
  accountId: string;
  roleArn: string;
  externalId: string;
}

let seq = 0;

/** An emulator account with one role and the given products, plus the connection document that points at it. */
export async function seedConnection(
  db: Db,
  opts: {
    products?: (accountId: string) => EmulatorProduct[];
    faults?: Record<string, unknown>;
    connection?: Record<string, unknown>;
    teamId?: string;
  } = {},
): Promise<SeededConnection> {
  seq += 1;
  const accountId = uniqueAccountId();
  const externalId = `ext-${accountId}-${seq}`;
  const roleArn = `arn:aws:iam::${accountId}:role/ListingSyncReadOnly`;
  const products = opts.products?.(accountId) ?? makeProducts(accountId, 'SaaSProduct', 3);
  await emulator.putAccounts([
    {
      accountId,
      roles: [{ name: 'ListingSyncReadOnly', externalId }],
      products,
      ...(opts.faults ? { faults: opts.faults } : {}),
    },
  ]);
  const connectionId = `conn-${accountId}-${seq}`;
  const teamId = opts.teamId ?? `team-${accountId}-${seq}`;
  await db.collection('connections').insertOne({
    _id: connectionId as never,
    team_id: teamId,
    provider: 'aws',
    iam_role_arn: roleArn,
    external_id: externalId,
    aws_account_id: accountId,
    ...opts.connection,
  });
  return { connectionId, teamId, accountId, roleArn, externalId };
}
