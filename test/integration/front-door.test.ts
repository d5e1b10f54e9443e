/**
 * The local front door (emulator/front-door.ts), started in-process in front of a small upstream server: it listens
 * on 127.0.0.1 only, and answers a body over its bound with 413 and the contract's error body without buffering it
 * or passing it on.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import { freePort } from '../../emulator/ports';
import { frontDoorBodyLimit, startFrontDoor, type FrontDoor } from '../../emulator/front-door';
import { API_MAX_BODY_BYTES, PUSH_MAX_BODY_BYTES } from '../../shared/runtime/http/limits';

let upstream: http.Server;
let door: FrontDoor;
/** Bodies the upstream received (their sizes). */
const received: number[] = [];
const BOUND = 4096;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      received.push(n);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes: n }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  door = await startFrontDoor({
    name: 'test',
    publicPort: await freePort(),
    targetPort: (upstream.address() as AddressInfo).port,
    replayInFlight: true,
    maxBodyBytes: BOUND,
  });
});
afterAll(async () => {
  await door.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

function post(
  host: string,
  body: { bytes: number; chunked: boolean },
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!body.chunked) headers['content-length'] = String(body.bytes);
    const req = http.request(
      { host, port: door.address().port, method: 'POST', path: '/', headers },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
      },
    );
    // A door that answered early may close while the rest is still being sent: only the answer matters.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const chunk = Buffer.alloc(1024, 0x61);
    let left = body.bytes;
    const more = (): void => {
      while (left > 0) {
        const part = chunk.subarray(0, Math.min(chunk.length, left));
        left -= part.length;
        if (!req.write(part)) {
          req.once('drain', more);
          return;
        }
      }
      req.end();
    };
    more();
  });
}

test('listens on 127.0.0.1 only', async () => {
  expect(door.address().address).toBe('127.0.0.1');
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4');
  if (external) {
    await expect(post(external.address, { bytes: 10, chunked: false })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  }
});

test('forwards a body within its bound', async () => {
  received.length = 0;
  expect(await post('127.0.0.1', { bytes: BOUND, chunked: true })).toEqual({
    status: 200,
    body: { bytes: BOUND },
  });
  expect(received).toEqual([BOUND]);
});

test.each([
  ['with a Content-Length over the bound', false],
  ['chunked, going over the bound while read', true],
])(
  'answers a body over its bound 413 with the contract error body, %s, and never forwards it',
  async (_w, chunked) => {
    received.length = 0;
    const r = await post('127.0.0.1', { bytes: 256 * 1024, chunked });
    expect(r).toEqual({
      status: 413,
      body: {
        error: { code: 'PAYLOAD_TOO_LARGE', message: `request body exceeds ${BOUND} bytes`, details: [] },
      },
    });
    expect(received).toEqual([]);
    // Still serving.
    expect((await post('127.0.0.1', { bytes: 1, chunked: false })).status).toBe(200);
  },
);

test('the stack’s bounds: a bit above the api’s 64 KiB for the api, a Pub/Sub push for the others', () => {
  expect(frontDoorBodyLimit('api')).toBeGreaterThan(API_MAX_BODY_BYTES);
  expect(frontDoorBodyLimit('api')).toBeLessThanOrEqual(2 * API_MAX_BODY_BYTES);
  expect(frontDoorBodyLimit('push')).toBe(PUSH_MAX_BODY_BYTES);
});
