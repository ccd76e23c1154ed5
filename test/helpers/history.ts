import type { WorkflowHandle } from '@temporalio/client';

/**
 * The whole history as searchable text with every payload decoded. Serialised as is, a history holds its
 * payloads as base64 `data` fields, which no plain string search would match.
 */
export async function historyText(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  return JSON.stringify(history, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') return Buffer.from(value, 'base64').toString('utf8');
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    return value;
  });
}
