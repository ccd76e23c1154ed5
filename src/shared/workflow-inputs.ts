// The workflows' inputs as they arrive from any caller (the TypeScript client, Temporal's HTTP API, the temporal CLI,
// another SDK): checked at the workflow boundary, so a malformed start fails at once, named InvalidInput, instead of
// as a TypeError retried for ever. Fields this version does not know are ignored, so a caller may send a newer
// version's optional fields (additive changes). Pure: the workflows call it, and so can anyone.
type Problems = string[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= 200;

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
  if (input.reportDeadline !== undefined && typeof input.reportDeadline !== 'string') {
    problems.push(`reportDeadline must be a duration string such as "1 hour", not ${describe(input.reportDeadline)}`);
  }
  if (
    input.awaitingReports !== undefined &&
    !(Array.isArray(input.awaitingReports) && input.awaitingReports.every(isId))
  ) {
    problems.push('awaitingReports must be an array of connection ids');
  }
  return problems;
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v) ?? `a ${typeof v}`;
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
