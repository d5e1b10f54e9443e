/**
 * Hostile input, end to end on the whole stack: every malformed, oversized, wrongly typed, deeply nested or
 * path-like request gets a 4xx with the contract's error body (contract §3) — never a 5xx, never an order — and the
 * api stays healthy. Ids that look reserved to Firestore (`__x__`) are ordinary ids.
 *
 * Requests go over a raw TCP socket, not fetch: fetch (WHATWG URL) would normalize `..` and `%2e%2e` away, add a
 * Content-Type to string bodies and refuse the header bytes some cases need.
 */
import { Firestore } from '@google-cloud/firestore';
import * as net from 'node:net';
import type { Stack } from '../../emulator/stack';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import type { ApiClient } from '../support/api-client';
import { expectAny } from '../support/matchers';
import { startTestStack } from '../support/test-stack';

let stack: Stack;
let api: ApiClient;
let firestore: Firestore;
let port: number;

const CUSTOMER = 'c-hostile';
const SKU = 'sku-hostile';
const CREDIT_LIMIT = 100_000;
const STOCK = 50;
/** Orders this file places on purpose; nothing else may create one. */
const deliberateOrders: string[] = [];

beforeAll(async () => {
  const seed = {
    customers: [
      { customerId: CUSTOMER, creditLimitCents: CREDIT_LIMIT },
      { customerId: '__x__', creditLimitCents: CREDIT_LIMIT },
    ],
    products: [
      { sku: SKU, available: STOCK },
      { sku: '__y__', available: 5 },
    ],
  };
  ({ stack, api } = await startTestStack('e2e-hostile', seed, {
    SAGA_STEP_TIMEOUT_MS: '15000',
    SAGA_SWEEP_INTERVAL_MS: '500',
  }));
  port = Number(new URL(stack.apiUrl).port);
  firestore = new Firestore({ projectId: stack.config.projectId });
}, 120_000);

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed (jest still runs afterAll)
  await firestore?.terminate();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- idem
  await stack?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: the request goes out byte for byte as written (head encoded latin1, one byte per char).

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: unknown;
}

function encodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 16 * 1024) {
    const chunk = body.subarray(i, i + 16 * 1024);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseResponse(data: Buffer): RawResponse {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`incomplete response: ${JSON.stringify(data.toString('latin1'))}`);
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let payload = data.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) payload = decodeChunked(payload);
  else if (headers['content-length'] !== undefined)
    payload = payload.subarray(0, Number(headers['content-length']));
  const text = payload.toString('utf8');
  let body: unknown = text;
  try {
    body = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    // not JSON: an answer of the framework or of node's HTTP server itself
  }
  return { status, headers, text, body };
}

function rawRequest(req: RawRequest): Promise<RawResponse> {
  const body =
    req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close', ...req.headers };
  if (body !== undefined) {
    if (req.chunked) headers['transfer-encoding'] = 'chunked';
    else if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
      headers['content-length'] = String(body.length);
  }
  const head =
    `${req.method} ${req.path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const wire = Buffer.concat([
    Buffer.from(head, 'latin1'),
    body === undefined ? Buffer.alloc(0) : req.chunked ? encodeChunked(body) : body,
  ]);
  return new Promise<RawResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const data = Buffer.concat(chunks);
      if (data.length > 0) {
        try {
          resolve(parseResponse(data));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      } else reject(err ?? new Error(`no response to ${req.method} ${req.path}`));
    };
    socket.setTimeout(20_000, () => finish(new Error(`timeout: ${req.method} ${req.path}`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer and close before it has read everything (e.g. node's own 400): keep what arrived.
    socket.on('error', (err) => finish(err));
    socket.write(wire);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The table.

const JSON_CT = { 'content-type': 'application/json' };
const item = { sku: SKU, quantity: 1, unitPriceCents: 100 };
const valid = { customerId: CUSTOMER, items: [item], paymentToken: 'tok_visa' };
/** The valid order with some top-level fields replaced (undefined removes the field). */
const order = (patch: Record<string, unknown>): string => JSON.stringify({ ...valid, ...patch });
/** The valid order with its one item's fields replaced (undefined removes the field). */
const withItem = (patch: Record<string, unknown>): string => order({ items: [{ ...item, ...patch }] });
/** `n` distinct items. */
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ ...item, sku: `sku-${i}` }));
/** The valid order with a raw JSON fragment spliced in as the first member (keys JSON.stringify cannot write). */
const spliced = (member: string): string => `{${member},${JSON.stringify(valid).slice(1)}`;
/** A valid order padded with spaces to exactly `bytes` bytes. */
const paddedTo = (bytes: number, json = JSON.stringify(valid)): string =>
  `${json.slice(0, -1)}${' '.repeat(bytes - json.length)}}`;
const nested = (depth: number, open: string, inner: string, close: string): string =>
  open.repeat(depth) + inner + close.repeat(depth);
/** The valid order's JSON after `{"customerId":"…",`. */
const afterCustomerId = JSON.stringify(valid).replace(/^\{"customerId":"[^"]*",/, '');

/**
 * `code: null`: answered before our function runs, so the body is not the contract's error body — by node's HTTP
 * server (bad framing, control characters in a header, raw non-ASCII or space in the path, a 20 KB header, an
 * unknown method), or by the functions framework (its default 404 for /favicon.ico, its router's 400 for bad
 * percent-encoding in the path, its body parser's 400/415 for an unsupported charset or content encoding). Only the
 * status is asserted for those. (Non-object JSON bodies, which contract §3 lets the framework refuse with a plain
 * 400, reach the function through the body-parser patch and are INVALID_ARGUMENT.)
 */
interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  chunked?: boolean;
  status: number;
  code: string | null;
  /** Expected Allow header (405). */
  allow?: string;
}

const post = (
  name: string,
  body: string | Buffer,
  status: number,
  code: string | null,
  headers: Record<string, string> = JSON_CT,
): Case => ({ name, method: 'POST', path: '/orders', headers, body, status, code });
const invalidOrder = (name: string, body: string | Buffer, headers?: Record<string, string>): Case =>
  post(name, body, 400, 'INVALID_ARGUMENT', headers);
const get = (name: string, path: string, status: number, code: string | null): Case => ({
  name,
  method: 'GET',
  path,
  status,
  code,
});
const wrongMethod = (method: string, path: string, allow: string): Case => ({
  name: `${method} ${path}`,
  method,
  path,
  headers: JSON_CT,
  body: method === 'GET' || method === 'OPTIONS' ? undefined : '{}',
  status: 405,
  code: 'METHOD_NOT_ALLOWED',
  allow,
});
const badKey = (name: string, key: string): Case => ({
  ...invalidOrder(`Idempotency-Key ${name}`, JSON.stringify(valid)),
  headers: { ...JSON_CT, 'idempotency-key': key },
});

const cases: Case[] = [
  // Malformed JSON.
  invalidOrder('malformed: truncated', '{"customerId":'),
  invalidOrder('malformed: lone brace', '{'),
  invalidOrder('malformed: single quotes', "{'customerId':'c-hostile'}"),
  invalidOrder('malformed: trailing comma', `${JSON.stringify(valid).slice(0, -1)},}`),
  invalidOrder('malformed: trailing garbage', `${JSON.stringify(valid)}}`),
  invalidOrder('malformed: two documents', `${JSON.stringify(valid)}${JSON.stringify(valid)}`),
  invalidOrder('malformed: unquoted key', '{customerId:"c-hostile"}'),
  invalidOrder('malformed: NaN', order({ items: [] }).replace('[]', 'NaN')),
  invalidOrder(
    'malformed: raw NUL byte inside a string',
    order({ paymentToken: 'tok\u0000visa' }).replace('\\u0000', '\0'),
  ),
  invalidOrder(
    'malformed: invalid UTF-8 in customerId',
    Buffer.concat([
      Buffer.from('{"customerId":"c-'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`",${afterCustomerId}`),
    ]),
  ),
  invalidOrder('empty body', ''),
  invalidOrder('whitespace only', '   \n '),
  // JSON that is not an object at the top level (the body-parser patch turns the framework's plain 400 into ours).
  invalidOrder('top level: null', 'null'),
  invalidOrder('top level: string', '"c-hostile"'),
  invalidOrder('top level: number', '42'),
  invalidOrder('top level: true', 'true'),
  invalidOrder('top level: empty array', '[]'),
  invalidOrder('top level: array of an order', `[${JSON.stringify(valid)}]`),
  invalidOrder('top level: empty object', '{}'),
  // Wrong types.
  invalidOrder('customerId: number', order({ customerId: 42 })),
  invalidOrder('customerId: null', order({ customerId: null })),
  invalidOrder('customerId: array', order({ customerId: [CUSTOMER] })),
  invalidOrder('customerId: object', order({ customerId: { id: CUSTOMER } })),
  invalidOrder('items: object', order({ items: item })),
  invalidOrder('items: string', order({ items: SKU })),
  invalidOrder('items: [null]', order({ items: [null] })),
  invalidOrder('items: [string]', order({ items: [SKU] })),
  invalidOrder('sku: number', withItem({ sku: 7 })),
  invalidOrder('quantity: string "2"', withItem({ quantity: '2' })),
  invalidOrder('quantity: boolean', withItem({ quantity: true })),
  invalidOrder('unitPriceCents: string', withItem({ unitPriceCents: '100' })),
  invalidOrder('unitPriceCents: null', withItem({ unitPriceCents: null })),
  invalidOrder('paymentToken: number', order({ paymentToken: 4242 })),
  invalidOrder('paymentToken: array', order({ paymentToken: ['tok_visa'] })),
  // Missing and unknown fields.
  invalidOrder('missing customerId', order({ customerId: undefined })),
  invalidOrder('missing items', order({ items: undefined })),
  invalidOrder('missing paymentToken', order({ paymentToken: undefined })),
  invalidOrder('item missing quantity', withItem({ quantity: undefined })),
  invalidOrder('item missing unitPriceCents', withItem({ unitPriceCents: undefined })),
  invalidOrder('unknown top-level field', order({ discount: 100 })),
  invalidOrder('unknown item field', withItem({ discountCents: 100 })),
  invalidOrder('__proto__ key at top level', spliced('"__proto__":{"admin":true}')),
  invalidOrder('constructor key at top level', spliced('"constructor":{"prototype":{"admin":true}}')),
  invalidOrder(
    '__proto__ key in an item',
    withItem({}).replace(`{"sku"`, '{"__proto__":{"quantity":1},"sku"'),
  ),
  // Ids in the body.
  invalidOrder('customerId: empty', order({ customerId: '' })),
  invalidOrder('customerId: 65 characters', order({ customerId: 'c'.repeat(65) })),
  invalidOrder('customerId: with /', order({ customerId: 'customers/c-hostile' })),
  invalidOrder('customerId: ..', order({ customerId: '..' })),
  invalidOrder('customerId: %2F', order({ customerId: 'c%2Fhostile' })),
  invalidOrder('customerId: unicode', order({ customerId: 'c-hóstile' })),
  invalidOrder('customerId: space', order({ customerId: 'c hostile' })),
  invalidOrder('customerId: escaped NUL', order({ customerId: 'c-hostile\u0000' })),
  invalidOrder('customerId: ~__x__ (the stored form of __x__)', order({ customerId: '~__x__' })),
  invalidOrder('sku: empty', withItem({ sku: '' })),
  invalidOrder('sku: with /', withItem({ sku: 'a/b' })),
  invalidOrder('sku: 65 characters', withItem({ sku: 's'.repeat(65) })),
  // Numbers.
  invalidOrder('quantity: 0', withItem({ quantity: 0 })),
  invalidOrder('quantity: 1001', withItem({ quantity: 1001 })),
  invalidOrder('quantity: 1.5', withItem({ quantity: 1.5 })),
  invalidOrder('quantity: -1', withItem({ quantity: -1 })),
  invalidOrder(
    'quantity: 1e400 (Infinity)',
    withItem({ quantity: 1 }).replace('"quantity":1', '"quantity":1e400'),
  ),
  invalidOrder(
    'quantity: 2^53 + 1',
    withItem({ quantity: 1 }).replace('"quantity":1', '"quantity":9007199254740993'),
  ),
  invalidOrder('unitPriceCents: 10,000,001', withItem({ unitPriceCents: 10_000_001 })),
  invalidOrder('unitPriceCents: -1', withItem({ unitPriceCents: -1 })),
  invalidOrder('unitPriceCents: 0.5', withItem({ unitPriceCents: 0.5 })),
  invalidOrder(
    'unitPriceCents: -1e400',
    withItem({ unitPriceCents: 1 }).replace('"unitPriceCents":1', '"unitPriceCents":-1e400'),
  ),
  // Items.
  invalidOrder('0 items', order({ items: [] })),
  invalidOrder('51 items', order({ items: items(51) })),
  invalidOrder('duplicate sku', order({ items: [item, { ...item, quantity: 2 }] })),
  // paymentToken.
  invalidOrder('paymentToken: empty', order({ paymentToken: '' })),
  invalidOrder('paymentToken: 65 characters', order({ paymentToken: 't'.repeat(65) })),
  // Lone surrogates cannot be encoded as UTF-8 (found by this table: they were a 503 from Firestore).
  invalidOrder('paymentToken: a lone high surrogate', order({ paymentToken: 'tok_\ud800' })),
  invalidOrder(
    'paymentToken: a lone low surrogate after a pair',
    order({ paymentToken: '\ud83d\udcb3\udc00' }),
  ),
  // Size and depth.
  post('64 KiB + 1 (an otherwise valid order)', paddedTo(64 * 1024 + 1), 413, 'PAYLOAD_TOO_LARGE'),
  post('1 MiB', paddedTo(1024 * 1024), 413, 'PAYLOAD_TOO_LARGE'),
  post('64 KiB + 1 as text/plain', paddedTo(64 * 1024 + 1), 413, 'PAYLOAD_TOO_LARGE', {
    'content-type': 'text/plain',
  }),
  {
    ...post('64 KiB + 1, chunked (no Content-Length)', paddedTo(64 * 1024 + 1), 413, 'PAYLOAD_TOO_LARGE'),
    chunked: true,
  },
  invalidOrder(
    'exactly 64 KiB is not too large (but has an unknown field)',
    paddedTo(64 * 1024, order({ pad: 'x' })),
  ),
  invalidOrder('5000 nested arrays as items', order({ items: [] }).replace('[]', nested(5000, '[', '', ']'))),
  invalidOrder('5000 nested objects', nested(5000, '{"a":', '{}', '}')),
  invalidOrder('30000 nested arrays at the top level', nested(30_000, '[', '', ']')),
  // Media types.
  post('text/plain', JSON.stringify(valid), 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
  post('form-urlencoded', `customerId=${CUSTOMER}&paymentToken=tok_visa`, 415, 'UNSUPPORTED_MEDIA_TYPE', {
    'content-type': 'application/x-www-form-urlencoded',
  }),
  post('no Content-Type', JSON.stringify(valid), 415, 'UNSUPPORTED_MEDIA_TYPE', {}),
  post('application/xml', '<order/>', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/xml' }),
  post('multipart/form-data', '--b\r\n\r\nx\r\n--b--\r\n', 415, 'UNSUPPORTED_MEDIA_TYPE', {
    'content-type': 'multipart/form-data; boundary=b',
  }),
  post('application/cloudevents+json', JSON.stringify(valid), 415, 'UNSUPPORTED_MEDIA_TYPE', {
    'content-type': 'application/cloudevents+json',
  }),
  post('application/json-patch+json', JSON.stringify(valid), 415, 'UNSUPPORTED_MEDIA_TYPE', {
    'content-type': 'application/json-patch+json',
  }),
  invalidOrder('application/json; charset=utf-16 (decodes to garbage)', JSON.stringify(valid), {
    'content-type': 'application/json; charset=utf-16',
  }),
  // Refused by the framework's body parser; the body-parser patch hands its client errors to the api, which
  // answers with the contract's error body.
  post(
    'application/json; charset=latin1 (body parser: 415)',
    JSON.stringify(valid),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    {
      'content-type': 'application/json; charset=latin1',
    },
  ),
  post(
    'Content-Encoding gzip, not gzipped (body parser: 400)',
    JSON.stringify(valid),
    400,
    'INVALID_ARGUMENT',
    {
      ...JSON_CT,
      'content-encoding': 'gzip',
    },
  ),
  post('Content-Encoding compress (body parser: 415)', JSON.stringify(valid), 415, 'UNSUPPORTED_MEDIA_TYPE', {
    ...JSON_CT,
    'content-encoding': 'compress',
  }),
  // Idempotency-Key (on an otherwise valid order).
  badKey('of 201 characters', 'k'.repeat(201)),
  badKey('with a tab inside', 'key\twith-tab'),
  badKey('with a latin-1 byte', 'clé'),
  badKey('empty', ''),
  // Control characters in a header: node's HTTP server refuses the request itself (plain 400, no body).
  { ...badKey('with DEL', 'a\x7fb'), code: null },
  { ...badKey('with a control character', 'a\x01b'), code: null },
  { ...badKey('with NUL', 'a\x00b'), code: null },
  // Methods.
  wrongMethod('POST', '/healthz', 'GET'),
  wrongMethod('GET', '/orders', 'POST'),
  wrongMethod('PUT', '/orders', 'POST'),
  wrongMethod('OPTIONS', '/orders', 'POST'),
  wrongMethod('DELETE', '/orders/some-order', 'GET'),
  wrongMethod('POST', '/orders/some-order', 'GET'),
  wrongMethod('PATCH', '/customers/c-hostile', 'GET'),
  wrongMethod('POST', '/inventory/sku-hostile', 'GET'),
  wrongMethod('PUT', '/payments/some-order', 'GET'),
  // Routes.
  get('unknown route /', '/', 404, 'NOT_FOUND'),
  get('unknown route /order', '/order', 404, 'NOT_FOUND'),
  get('unknown route /ORDERS/x', '/ORDERS/x', 404, 'NOT_FOUND'),
  get('extra segment /orders/x/y', '/orders/x/y', 404, 'NOT_FOUND'),
  get('empty id /customers/', '/customers/', 404, 'NOT_FOUND'),
  get('/favicon.ico (framework)', '/favicon.ico', 404, null),
  // Ids in paths.
  get('path traversal /orders/../customers/c-hostile', '/orders/../customers/c-hostile', 404, 'NOT_FOUND'),
  get('path traversal /orders/..', '/orders/..', 400, 'INVALID_ARGUMENT'),
  get('path traversal /orders/%2e%2e', '/orders/%2e%2e', 400, 'INVALID_ARGUMENT'),
  get(
    'encoded slash /customers/..%2Fcustomers%2Fc-hostile',
    '/customers/..%2Fcustomers%2Fc-hostile',
    400,
    'INVALID_ARGUMENT',
  ),
  get('encoded slash /inventory/%2F', '/inventory/%2F', 400, 'INVALID_ARGUMENT'),
  get('double-encoded slash /inventory/a%252Fb', '/inventory/a%252Fb', 400, 'INVALID_ARGUMENT'),
  // The framework's router decodes the path before the function runs: its own plain 400.
  get('bad percent-encoding /orders/%E0%A4%A', '/orders/%E0%A4%A', 400, null),
  get('bad percent-encoding /customers/%ZZ', '/customers/%ZZ', 400, null),
  get('percent-encoded unicode id', '/customers/c-h%C3%B3stile', 400, 'INVALID_ARGUMENT'),
  get('percent-encoded space', '/customers/c%20hostile', 400, 'INVALID_ARGUMENT'),
  get('percent-encoded NUL', '/customers/c-hostile%00', 400, 'INVALID_ARGUMENT'),
  get('id of 10,000 characters', `/customers/${'c'.repeat(10_000)}`, 400, 'INVALID_ARGUMENT'),
  get(
    'raw UTF-8 in the path (node: plain 400)',
    Buffer.from('/customers/c-hóstile').toString('latin1'),
    400,
    null,
  ),
  get('raw space in the path (node: plain 400)', '/customers/c hostile', 400, null),
  {
    ...get('GET with a malformed JSON body: the body is ignored', '/orders/x', 404, 'NOT_FOUND'),
    headers: JSON_CT,
    body: '{',
  },
  get('id of 65 characters', `/inventory/${'s'.repeat(65)}`, 400, 'INVALID_ARGUMENT'),
  get('payment of an id with /', '/payments/a%2Fb', 400, 'INVALID_ARGUMENT'),
  get('reserved-looking unknown customer __nope__', '/customers/__nope__', 404, 'NOT_FOUND'),
  get('reserved-looking unknown sku __nope__', '/inventory/__nope__', 404, 'NOT_FOUND'),
  get('reserved-looking order id __x__', '/orders/__x__', 404, 'NOT_FOUND'),
  get('customer ~__x__ (the stored form of __x__)', '/customers/~__x__', 400, 'INVALID_ARGUMENT'),
  // Framing that node's HTTP server refuses before anything else runs.
  {
    ...post('both Content-Length and Transfer-Encoding', JSON.stringify(valid), 400, null),
    headers: { ...JSON_CT, 'content-length': '5', 'transfer-encoding': 'chunked' },
  },
  {
    ...get('a 20 KB header (node: 431)', '/healthz', 431, null),
    headers: { 'x-padding': 'p'.repeat(20_000) },
  },
  { ...get('an unknown method (node: plain 400)', '/orders', 400, null), method: 'BREW' },
];

test('Firestore-reserved-looking ids are ordinary ids: an order of sku __y__ by __x__ is APPROVED', async () => {
  const placed = await api.placeOrder({
    customerId: '__x__',
    items: [{ sku: '__y__', quantity: 2, unitPriceCents: 300 }],
    paymentToken: 'tok_visa',
  });
  expect(placed.status).toBe(202);
  deliberateOrders.push(placed.body.orderId);
  const o = await api.waitTerminal(placed.body.orderId);
  expect(o).toMatchObject({ status: 'APPROVED', customerId: '__x__', totalCents: 600 });
  const customer = await api.request('GET', '/customers/__x__');
  expect(customer).toMatchObject({
    status: 200,
    body: { customerId: '__x__', creditLimitCents: CREDIT_LIMIT, creditUsedCents: 600 },
  });
  expect(await api.request('GET', '/inventory/__y__')).toMatchObject({
    status: 200,
    body: { sku: '__y__', available: 3 },
  });
  expect(await api.payment(o.orderId)).toEqual({ orderId: o.orderId, status: 'CHARGED', amountCents: 600 });
  // A reserved-looking id that nobody has is an ordinary unknown id.
  expect(await api.request('GET', '/payments/__x__')).toMatchObject({
    status: 200,
    body: { orderId: '__x__', status: 'NONE', amountCents: 0 },
  });
});

describe('hostile input table', () => {
  let creditBefore: number;
  let stockBefore: number;

  beforeAll(async () => {
    creditBefore = await api.creditUsed(CUSTOMER);
    stockBefore = await api.stock(SKU);
  });

  test('has enough cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  test.each(cases.map((c) => [`${c.method} ${c.name}`, c] as const))('%s', async (_name, c) => {
    const res = await rawRequest(c);
    if (res.status !== c.status)
      throw new Error(`expected ${c.status}, got ${res.status}: ${res.text.slice(0, 500)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    if (c.code !== null) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        error: { code: c.code, message: expectAny(String), details: expectAny(Array) },
      });
      const { details } = (res.body as { error: { details: unknown[] } }).error;
      for (const d of details) expect(d).toEqual({ path: expectAny(String), message: expectAny(String) });
      if (c.code === 'INVALID_ARGUMENT' && c.method === 'POST') expect(details.length).toBeGreaterThan(0);
    }
    if (c.allow !== undefined) expect(res.headers.allow).toBe(c.allow);
  });

  test('afterwards: no order was created, credit and stock unchanged, the api healthy and working', async () => {
    const sagas = await firestore.collection(COLLECTIONS.sagas).get();
    expect(sagas.docs.map((d) => d.id).sort()).toEqual([...deliberateOrders].sort());
    expect((await firestore.collection(COLLECTIONS.idempotencyKeys).get()).size).toBe(0);
    expect(await api.creditUsed(CUSTOMER)).toBe(creditBefore);
    expect(await api.stock(SKU)).toBe(stockBefore);
    expect(stack.restarts().api).toBe(0);
    expect(await api.request('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });

    const placed = await api.placeOrder({ ...valid, items: [{ ...item, quantity: 3 }] }, 'hostile-final');
    expect(placed.status).toBe(202);
    deliberateOrders.push(placed.body.orderId);
    const o = await api.waitTerminal(placed.body.orderId);
    expect(o.status).toBe('APPROVED');
    expect(await api.creditUsed(CUSTOMER)).toBe(creditBefore + 300);
    expect(await api.stock(SKU)).toBe(stockBefore - 3);
    const after = await firestore.collection(COLLECTIONS.sagas).get();
    expect(after.docs.map((d) => d.id).sort()).toEqual([...deliberateOrders].sort());
  });
});
