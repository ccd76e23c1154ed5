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

const GATEWAY_REASONS: Record<number, string> = {
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/**
 * What a load balancer in front of AWS answers when the service behind it is gone: an HTML page and no
 * x-amzn-ErrorType, so the SDK has no modeled error to map it to.
 */
export function gatewayError(status: number): Reply {
  const title = `${status} ${GATEWAY_REASONS[status] ?? 'Error'}`;
  return {
    status,
    headers: { 'content-type': 'text/html', server: 'awselb/2.0' },
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
  };
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
  res.end(reply.body);
}
