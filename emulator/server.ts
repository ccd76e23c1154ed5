import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { batchDescribeEntities, authenticate, catalogError, describeEntity, listEntities } from './catalog.ts';
import { gatewayError, json, send, type Reply } from './http.ts';
import { EmulatorState, type EmulatorData } from './state.ts';
import { assumeRole, stsAccount, stsError, stsInternalFailure } from './sts.ts';

export { EmulatorState, type EmulatorData } from './state.ts';

export interface RunningEmulator {
  url: string;
  state: EmulatorState;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> | null {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const HANG = Symbol('hang');

/** How each protocol words the errors an outage or throttling answers with. */
interface ProtocolErrors {
  throttling(): Reply;
  internal(): Reply;
}

const STS_ERRORS: ProtocolErrors = {
  // STS answers throttling with 400, not 429.
  throttling: () => stsError(400, 'Throttling', 'Rate exceeded'),
  internal: stsInternalFailure,
};

const CATALOG_ERRORS: ProtocolErrors = {
  throttling: () => catalogError('ThrottlingException', 'Rate exceeded'),
  internal: () => catalogError('InternalServiceException', 'An internal error occurred (emulated outage)'),
};

/**
 * The answer injected faults give a counted call instead of the real one: HANG for none at all, undefined
 * when the call goes ahead.
 */
async function injectedFault(
  state: EmulatorState,
  operation: string,
  accountId: string | undefined,
  errors: ProtocolErrors,
): Promise<Reply | typeof HANG | undefined> {
  if (state.shouldHang(accountId, operation)) {
    state.count('hung', operation, accountId);
    return HANG;
  }
  const { latencyMs } = state.faultsFor(accountId);
  if (latencyMs) await delay(latencyMs);
  // Checked after the latency, so a call that starts before an outage ends may still land after it.
  const outage = state.outageStatus(accountId, operation);
  if (outage === 429 || (outage === undefined && state.shouldThrottle(accountId))) {
    state.count('throttled', operation, accountId);
    return errors.throttling();
  }
  if (outage === undefined) return undefined;
  state.count('errors', operation, accountId);
  return outage === 500 ? errors.internal() : gatewayError(outage);
}

/** Test and benchmark controls; never reached by the product's code. */
function admin(
  state: EmulatorState,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): Reply {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'accounts' && parts[1] && !state.account(parts[1])) {
    return json(404, { error: `no account ${parts[1]}` });
  }
  try {
    if (method === 'GET' && path === 'health') return json(200, { ok: true });
    if (method === 'POST' && path === 'accounts') {
      for (const spec of (body.accounts ?? []) as Parameters<EmulatorState['putAccount']>[0][]) state.putAccount(spec);
      return json(200, { ok: true });
    }
    if (method === 'DELETE' && path === 'accounts') {
      state.clear();
      return json(200, { ok: true });
    }
    if (parts[0] === 'accounts' && parts[1] && parts[2] === 'faults' && method === 'PATCH') {
      state.patchFaults(parts[1], body);
      return json(200, { ok: true });
    }
    if (parts[0] === 'accounts' && parts[1] && parts[2] === 'products' && parts[3] && method === 'PATCH') {
      if (!state.account(parts[1])?.productsById.has(parts[3]))
        return json(404, { error: `no product ${parts[3]} in ${parts[1]}` });
      state.patchProduct(parts[1], parts[3], body);
      return json(200, { ok: true });
    }
    if (parts[0] === 'accounts' && parts[1] && parts[2] === 'products' && !parts[3] && method === 'PUT') {
      state.setProducts(parts[1], (body.products ?? []) as Parameters<EmulatorState['setProducts']>[1]);
      return json(200, { ok: true });
    }
    if (method === 'PUT' && path === 'faults') {
      state.setGlobalFaults(body);
      return json(200, { ok: true });
    }
    if (method === 'GET' && path === 'stats') return json(200, state.stats());
    if (method === 'POST' && path === 'stats/reset') {
      state.resetStats();
      return json(200, { ok: true });
    }
    if (method === 'GET' && path === 'issued-credentials') {
      return json(200, { credentials: state.issuedFor(query.get('accountId') ?? '') });
    }
    return json(404, { error: `no admin route ${method} /_emulator/${path}` });
  } catch (err) {
    return json(400, { error: (err as Error).message });
  }
}

export async function startEmulator(
  opts: { port?: number; host?: string; data?: EmulatorData } = {},
): Promise<RunningEmulator> {
  const state = new EmulatorState(opts.data);

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const method = req.method ?? 'GET';
      const text = await readBody(req);

      if (url.pathname.startsWith('/_emulator/')) {
        const body = parseJson(text);
        send(
          res,
          body === null
            ? json(400, { error: 'the body is not a JSON object' })
            : admin(state, method, url.pathname.slice('/_emulator/'.length), url.searchParams, body),
        );
        return;
      }

      // STS speaks the query protocol: a form-encoded POST to "/".
      if (
        method === 'POST' &&
        url.pathname === '/' &&
        (req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')
      ) {
        const params = new URLSearchParams(text);
        const accountId = stsAccount(params);
        state.count('calls', 'AssumeRole', accountId);
        const fault = await injectedFault(state, 'AssumeRole', accountId, STS_ERRORS);
        // A hung call is left unanswered; its socket goes when the client gives up or the server closes.
        if (fault === HANG) return;
        if (fault) {
          send(res, fault);
          return;
        }
        const reply = assumeRole(state, params, req.headers.authorization);
        if (reply.status >= 400) state.count('errors', 'AssumeRole', accountId);
        send(res, reply);
        return;
      }

      const operation = url.pathname.slice(1);
      if (!['ListEntities', 'DescribeEntity', 'BatchDescribeEntities'].includes(operation)) {
        send(res, catalogError('ResourceNotFoundException', `Unknown operation ${method} ${url.pathname}`));
        return;
      }
      const auth = authenticate(state, req, text);
      if ('status' in auth) {
        state.count('errors', operation, undefined);
        send(res, auth);
        return;
      }
      const { accountId } = auth;
      state.count('calls', operation, accountId);
      const fault = await injectedFault(state, operation, accountId, CATALOG_ERRORS);
      if (fault === HANG) return;
      if (fault) {
        send(res, fault);
        return;
      }
      const body = parseJson(text);
      let reply: Reply;
      if (body === null) reply = catalogError('ValidationException', 'Request body is not valid JSON');
      else if (operation === 'ListEntities' && method === 'POST') reply = listEntities(state, accountId, body);
      else if (operation === 'DescribeEntity' && method === 'GET')
        reply = describeEntity(state, accountId, url.searchParams);
      else if (operation === 'BatchDescribeEntities' && method === 'POST')
        reply = batchDescribeEntities(state, accountId, body);
      else reply = catalogError('ValidationException', `${method} is not allowed on /${operation}`);
      if (reply.status >= 400) state.count('errors', operation, accountId);
      send(res, reply);
    })().catch((err: unknown) => {
      send(res, catalogError('InternalServiceException', (err as Error).message));
    });
  });
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
