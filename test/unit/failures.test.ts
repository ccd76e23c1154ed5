import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { catalogFailure } from '../../src/activities/aws-errors.ts';
import {
  FAILURES,
  FailureType,
  isRetryable,
  isTransient,
  NON_RETRYABLE_FAILURES,
  syncFailure,
  toSyncError,
} from '../../src/shared/failures.ts';

describe('the failure table', () => {
  it('has a row for every failure type', () => {
    assert.deepEqual(Object.keys(FAILURES).sort(), Object.values(FailureType).sort());
  });

  // The retry policies carry this list into every scheduled activity of every running workflow: a change to it is a
  // change to what runs in flight retry, to be made on purpose.
  it('names in the retry policies exactly the activity failures no retry can help', () => {
    assert.deepEqual(NON_RETRYABLE_FAILURES, [
      'InvalidConnection',
      'ConnectionNotFound',
      'AssumeRoleDenied',
      'CatalogAccessDenied',
      'CatalogRequestRejected',
      'CatalogPaginationLoop',
      'StagingMissing',
    ]);
  });

  it('makes every raised failure retryable exactly as the table says', () => {
    for (const type of Object.values(FailureType)) {
      assert.equal(syncFailure(type, 'm').nonRetryable, !FAILURES[type].retryable, type);
      assert.equal(isRetryable(type), FAILURES[type].retryable, type);
    }
    assert.equal(isRetryable('TypeError'), true, 'a bug is retried, as the SDK does');
    assert.equal(isTransient('TypeError'), false, 'but never reads as "the retries ran out"');
  });

  it('never reports an expired or rejected role session as a permission problem', () => {
    for (const name of ['ExpiredTokenException', 'UnrecognizedClientException', 'InvalidClientTokenId']) {
      const err = Object.assign(new Error('The security token included in the request is expired'), {
        name,
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      });
      for (const operation of ['ListEntities', 'BatchDescribeEntities']) {
        const failure = catalogFailure(err, operation, 'SaaSProduct');
        assert.equal(failure.type, FailureType.CatalogUnavailable, `${operation} ${name}`);
        assert.equal(failure.nonRetryable, false);
      }
    }
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    assert.equal(
      catalogFailure(denied, 'BatchDescribeEntities', '(20 products)').type,
      FailureType.CatalogAccessDenied,
    );
    assert.equal(catalogFailure(denied, 'BatchDescribeEntities', '(20 products)').nonRetryable, true);
  });
});

describe('toSyncError', () => {
  const app = ApplicationFailure.create({ type: 'AssumeRoleDenied', message: 'denied' });

  it('names an ApplicationFailure by its type, and any other error by its name', () => {
    assert.deepEqual(toSyncError(app), { type: 'AssumeRoleDenied', message: 'denied' });
    assert.deepEqual(toSyncError(new TypeError('x is undefined')), { type: 'TypeError', message: 'x is undefined' });
    assert.deepEqual(toSyncError('plain string'), { type: 'Error', message: 'plain string' });
  });

  it("unwraps an activity's, a child workflow's and a client's wrapper to the cause", () => {
    const activity = new ActivityFailure(
      'activity failed',
      'reconcile',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      'w',
      app,
    );
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'sync-connection-c1', runId: 'r' },
      'syncConnection',
      RetryState.NON_RETRYABLE_FAILURE,
      activity,
    );
    const client = Object.assign(new Error('Workflow execution failed'), { name: 'WorkflowFailedError', cause: child });
    for (const err of [activity, child, client])
      assert.deepEqual(toSyncError(err), { type: 'AssumeRoleDenied', message: 'denied' });
  });
});
