import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A restJson1 error as AWS sends it: status, x-amzn-ErrorType header, {"Message"} body. */
export function awsJsonError(status: number, code: string, message: string): Reply {
  return json(status, { Message: message }, { 'x-amzn-ErrorType': code, 'x-amzn-RequestId': randomUUID() });
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
  res.end(reply.body);
}
