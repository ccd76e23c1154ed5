import type { MarketplaceCatalogClient } from '@aws-sdk/client-marketplace-catalog';

interface Session {
  client: MarketplaceCatalogClient;
  accountId: string;
  expiresAt: number;
}

/**
 * Assumed-role sessions live only in worker memory so the temporary credentials never enter workflow
 * history. Entries are bounded (LRU) and dropped before they expire; a miss means "assume the role again".
 */
export class RoleSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
    /** Sessions this close to expiry are treated as gone, so a call never starts with nearly-dead credentials. */
    private readonly refreshMarginMs = 60_000,
  ) {}

  get(connectionId: string): Session | undefined {
    const session = this.sessions.get(connectionId);
    if (!session) return undefined;
    if (session.expiresAt - this.refreshMarginMs <= this.now()) {
      this.forget(connectionId);
      return undefined;
    }
    this.sessions.delete(connectionId);
    this.sessions.set(connectionId, session);
    return session;
  }

  put(connectionId: string, session: Session): void {
    this.forget(connectionId);
    this.sessions.set(connectionId, session);
    while (this.sessions.size > this.maxEntries) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  forget(connectionId: string): void {
    const session = this.sessions.get(connectionId);
    if (!session) return;
    this.sessions.delete(connectionId);
    session.client.destroy();
  }

  get size(): number {
    return this.sessions.size;
  }

  clear(): void {
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }
}
