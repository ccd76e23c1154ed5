import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

const logger = new DefaultLogger('WARN');

/** A MockActivityEnvironment that logs like the worker under test (WARN and up) instead of every INFO line. */
export function mockActivityEnv(info?: Partial<Info>): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger });
}

/** Runs an activity function in a MockActivityEnvironment, keeping its argument and result types. */
export function runActivity<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  env: MockActivityEnvironment,
  ...args: A
): Promise<R> {
  return env.run<A, R, (...a: A) => Promise<R>>(fn, ...args);
}
