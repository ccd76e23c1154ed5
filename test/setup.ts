import { DefaultLogger, Runtime } from '@temporalio/worker';

// Expected failures (denied roles, broken connections) are logged by the SDK at WARN with stack traces;
// the tests assert on them, so only errors reach the console.
Runtime.install({ logger: new DefaultLogger('ERROR') });
