import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = header ? AUTHORIZATION.exec(header) : null;
  if (!m) return undefined;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  return {
    accessKeyId: accessKeyId!,
    date: date!,
    region: region!,
    service: service!,
    signedHeaders: signedHeaders!.split(';'),
    signature: signature!,
  };
}

// Same escaping as @smithy/core's escapeUri: RFC 3986 unreserved characters stay, everything else is %XX.
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

// Deriving a signing key is four HMACs; a benchmark signs ~100k requests with a few thousand keys.
const signingKeys = new Map<string, Buffer>();
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}/${date}/${region}/${service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    if (signingKeys.size > 50_000) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/**
 * Recomputes the SigV4 signature the way the SDK's signer builds it, so a Catalog call proves it holds the
 * secret key the emulator's STS issued, not just the (non-secret) access key id and session token.
 */
export function signatureMatches(
  auth: ParsedAuthorization,
  secretAccessKey: string,
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
  body: string,
): boolean {
  const url = new URL(rawUrl, 'http://emulator');
  // The SDK escapes the path it sends once more (non-S3 services sign a double-encoded path).
  const path = url.pathname
    .split('/')
    .map((segment) => escapeUri(segment))
    .join('/');
  const query = [...url.searchParams]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [escapeUri(key), escapeUri(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalHeaders = auth.signedHeaders
    .map((name) => {
      const value = headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash =
    typeof headers['x-amz-content-sha256'] === 'string' ? headers['x-amz-content-sha256'] : sha256(body);
  const canonicalRequest = [method, path, query, canonicalHeaders, auth.signedHeaders.join(';'), payloadHash].join(
    '\n',
  );
  const amzDate = headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !amzDate.startsWith(auth.date)) return false;
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonicalRequest)}`;
  const expected = createHmac('sha256', signingKey(secretAccessKey, auth.date, auth.region, auth.service))
    .update(stringToSign)
    .digest();
  return timingSafeEqual(expected, Buffer.from(auth.signature, 'hex'));
}
