import { MockActivityEnvironment } from '@temporalio/testing';

/** Runs an activity function in a fresh MockActivityEnvironment, keeping its argument and result types. */
export function runActivity<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  env: MockActivityEnvironment,
  ...args: A
): Promise<R> {
  return env.run<A, R, (...a: A) => Promise<R>>(fn, ...args);
}
