/**
 * The api function in-process, behind the functions framework's own server (as `functions-framework` runs it, with
 * functions/body-parser-patch.ts applied): oversized bodies are refused while they are read, and a 503 never shows
 * internal error text. Its dependencies are stubbed: nothing here reaches Firestore or Pub/Sub.
 */
import type { AddressInfo } from 'node:net';
import * as http from 'node:http';
import { bodyLimitFor, functionTarget } from '../../functions/body-parser-patch';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { api, UNAVAILABLE_MESSAGE } from '../../functions/api';
import { API_MAX_BODY_BYTES, PUSH_MAX_BODY_BYTES } from '../../shared/runtime/http/limits';
import { expectAny } from '../support/matchers';

const SECRET =
  'projects/demo/databases/(default)/documents/sagas: 13 INTERNAL: lock table overflow at 10.0.0.7';
const logged: { message: string; fields: Record<string, unknown> }[] = [];

jest.mock('../../functions/context', () => ({
  context: () => ({
    log: {
      error: (message: string, fields: Record<string, unknown>) => logged.push({ message, fields }),
      child: () => ({ info: () => undefined }),
    },
  }),
}));
jest.mock('../../shared/runtime/admission', () => ({ admissionFromConfig: () => ({}) }));
jest.mock('../../functions/api/service', () => ({
  ApiService: class {
    view(): Promise<never> {
      return Promise.reject(new Error(SECRET));
    }
  },
}));

/** What the parser left for the function: the raw body it buffered, and the error it handed over. */
const seen: { rawBodyBytes: number | undefined; parseStatus: number | undefined }[] = [];

let server: http.Server;
let port: number;

beforeAll(async () => {
  process.env.FUNCTION_TARGET = 'api'; // read by the patch when the framework builds its parsers
  functions.http('apiUnderTest', (req, res) => {
    const r = req as typeof req & { rawBody?: Buffer; bodyParseError?: { status?: number } };
    seen.push({ rawBodyBytes: r.rawBody?.length, parseStatus: r.bodyParseError?.status });
    return api(req, res);
  });
  server = getTestServer('apiUnderTest');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends a request; with `chunks`, the body is streamed chunked (no Content-Length: the parser must count). */
function send(
  method: string,
  path: string,
  opts: { body?: Buffer; chunks?: number; chunkBytes?: number } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.body) headers['content-length'] = String(opts.body.length);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null }),
      );
    });
    req.on('error', reject);
    if (opts.body) req.end(opts.body);
    else if (opts.chunks) {
      const chunk = Buffer.alloc(opts.chunkBytes ?? 64 * 1024, 0x20);
      req.write('{"customerId":"c-1","x":"');
      let i = 0;
      const more = (): void => {
        while (i < opts.chunks!) {
          i += 1;
          if (!req.write(chunk)) {
            req.once('drain', more);
            return;
          }
        }
        req.end('"}');
      };
      more();
    } else req.end();
  });
}

describe('body limit', () => {
  test('the api parses at most 64 KiB; push endpoints at most what a Pub/Sub push can carry', () => {
    expect(functionTarget()).toBe('api');
    expect(bodyLimitFor('api')).toBe(API_MAX_BODY_BYTES);
    expect(API_MAX_BODY_BYTES).toBeLessThanOrEqual(64 * 1024);
    expect(bodyLimitFor('deadLetters')).toBe(PUSH_MAX_BODY_BYTES);
    expect(bodyLimitFor('console')).toBe(API_MAX_BODY_BYTES);
    expect(PUSH_MAX_BODY_BYTES).toBeGreaterThan(Math.ceil((10 * 1000 * 1000 * 4) / 3));
    expect(PUSH_MAX_BODY_BYTES).toBeLessThan(32 * 1024 * 1024);
    expect(functionTarget(['node', 'main.js', '--target', 'credit'], {})).toBe('credit');
    expect(functionTarget(['node', 'main.js', '--target=credit'], { FUNCTION_TARGET: 'x' })).toBe('credit');
    expect(functionTarget(['node'], { FUNCTION_TARGET: 'payment' })).toBe('payment');
  });

  test('a 2 MiB chunked body is refused while it is read (never buffered): 413 with the contract error body', async () => {
    seen.length = 0;
    const r = await send('POST', '/orders', { chunks: 32 }); // 32 × 64 KiB, no Content-Length
    expect(r.status).toBe(413);
    expect(r.body).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expectAny(String), details: [] },
    });
    // The parser gave up at the limit: no raw body was assembled, its 413 was handed to the function.
    expect(seen).toEqual([{ rawBodyBytes: undefined, parseStatus: 413 }]);
  });

  test('a body over the limit with its Content-Length is refused before it is read: 413', async () => {
    seen.length = 0;
    const r = await send('POST', '/orders', { body: Buffer.alloc(API_MAX_BODY_BYTES + 1, 0x20) });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(seen).toEqual([{ rawBodyBytes: undefined, parseStatus: 413 }]);
  });

  test('a body within the limit is still parsed (400 for an invalid order, not 413)', async () => {
    const r = await send('POST', '/orders', { body: Buffer.from(JSON.stringify({ customerId: 'c-1' })) });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});

describe('503', () => {
  test('answers a generic message and logs the internal error', async () => {
    logged.length = 0;
    const r = await send('GET', '/orders/some-order');
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: { code: 'UNAVAILABLE', message: UNAVAILABLE_MESSAGE, details: [] } });
    expect(JSON.stringify(r.body)).not.toMatch(/INTERNAL|lock table|10\.0\.0\.7|documents/);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toBe('api request failed');
    expect((logged[0]!.fields.error as Error).message).toBe(SECRET);
  });
});
