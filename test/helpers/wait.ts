import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `fn` until it returns something other than undefined or false, and returns that. An error thrown by `fn`
 * counts as "not yet" (a workflow not started yet, a server coming back) and is named if time runs out.
 */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await delay(100);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
  );
}
