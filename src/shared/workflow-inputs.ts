// The workflows' inputs as they arrive from any caller (the TypeScript client, Temporal's HTTP API, the temporal CLI,
// another SDK): checked at the workflow boundary, so a malformed start fails at once, named InvalidInput, instead of
// as a TypeError retried for ever. Fields this version does not know are ignored, so a caller may send a newer
// version's optional fields (additive changes). Pure: the workflows call it, and so can anyone.
import { msToNumber } from '@temporalio/common';

type Problems = string[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= 200;
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const TOTALS_COUNTS = ['total_aws', 'matched', 'updated', 'auto_linked', 'imported'] as const;
const CONNECTION_COUNTS = ['succeeded', 'failed', 'skipped'] as const;

/** What is wrong with a syncConnection (or previewConnectionSync) input; empty when nothing is. */
export function syncConnectionInputProblems(input: unknown, opts: { preview?: boolean } = {}): Problems {
  if (!isObject(input)) return [`the input must be an object like {"connectionId": "…"}, not ${describe(input)}`];
  const problems: Problems = [];
  if (!isId(input.connectionId))
    problems.push(`connectionId must be a non-empty string, not ${describe(input.connectionId)}`);
  if (opts.preview) return problems;
  const { trigger, reportTo } = input;
  if (trigger !== undefined && trigger !== null) {
    if (!isObject(trigger) || typeof trigger.reason !== 'string' || typeof trigger.eventId !== 'string') {
      problems.push('trigger must be {"reason": string, "eventId": string, "afterRun"?: boolean}');
    } else if (trigger.afterRun !== undefined && typeof trigger.afterRun !== 'boolean') {
      problems.push('trigger.afterRun must be a boolean');
    }
  }
  if (reportTo !== undefined && reportTo !== null && !isId(reportTo)) {
    problems.push(`reportTo must be a workflow id, not ${describe(reportTo)}`);
  }
  return problems;
}

/** What is wrong with a syncAll input (an absent input is the schedule's default run); empty when nothing is. */
export function syncAllInputProblems(input: unknown): Problems {
  if (input === undefined || input === null) return [];
  if (!isObject(input)) return [`the input must be an object, not ${describe(input)}`];
  const problems: Problems = [];
  const int = (name: string, min: number, max: number) => {
    const v = input[name];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) {
      problems.push(`${name} must be an integer from ${min} to ${max}, not ${describe(v)}`);
    }
  };
  int('concurrency', 1, 1_000);
  int('batchSize', 1, 2_000);
  int('runsInChain', 0, Number.MAX_SAFE_INTEGER);
  if (input.reportDeadline !== undefined && !isDuration(input.reportDeadline)) {
    problems.push(`reportDeadline must be a duration string such as "1 hour", not ${describe(input.reportDeadline)}`);
  }
  // The chain's own hand-over fields, which a continue-as-new carries from run to run: checked too, because a caller
  // may send them and the chain's last run would otherwise fail its workflow task on them, again and again.
  if (
    input.chainStartedAt !== undefined &&
    !(typeof input.chainStartedAt === 'string' && isDate(input.chainStartedAt))
  ) {
    problems.push(`chainStartedAt must be an ISO date, not ${describe(input.chainStartedAt)}`);
  }
  const { cursor, totals, failures } = input;
  if (
    cursor !== undefined &&
    cursor !== null &&
    !(isObject(cursor) && (cursor.kind === 'string' || cursor.kind === 'objectId') && typeof cursor.value === 'string')
  ) {
    problems.push('cursor must be null or {"kind": "string" | "objectId", "value": string}');
  }
  if (
    totals !== undefined &&
    !(
      isObject(totals) &&
      TOTALS_COUNTS.every((k) => isCount(totals[k])) &&
      isObject(totals.connections) &&
      CONNECTION_COUNTS.every((k) => isCount((totals.connections as Record<string, unknown>)[k]))
    )
  ) {
    problems.push(
      `totals must hold non-negative integers ${TOTALS_COUNTS.join(', ')} and connections.{${CONNECTION_COUNTS.join(', ')}}`,
    );
  }
  if (
    failures !== undefined &&
    !(
      Array.isArray(failures) &&
      failures.every(
        (f) =>
          isObject(f) &&
          typeof f.connection_id === 'string' &&
          typeof f.type === 'string' &&
          typeof f.message === 'string',
      )
    )
  ) {
    problems.push('failures must be an array of {"connection_id": string, "type": string, "message": string}');
  }
  if (
    input.awaitingReports !== undefined &&
    !(Array.isArray(input.awaitingReports) && input.awaitingReports.every(isId))
  ) {
    problems.push('awaitingReports must be an array of connection ids');
  }
  return problems;
}

/** What is wrong with a `refresh` signal's payload; empty when nothing is. */
export function refreshRequestProblems(request: unknown): Problems {
  if (!isObject(request)) return [`the payload must be {"eventId", "detailType", "account"}, not ${describe(request)}`];
  return (['eventId', 'detailType', 'account'] as const).flatMap((k) =>
    typeof request[k] === 'string' ? [] : [`${k} must be a string, not ${describe(request[k])}`],
  );
}

function isDuration(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    return msToNumber(v) > 0;
  } catch {
    return false;
  }
}

function isDate(v: string): boolean {
  return !Number.isNaN(Date.parse(v));
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v) ?? `a ${typeof v}`;
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
