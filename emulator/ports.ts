/** Port helpers: free ports, "is anything listening here", "is it an emulator". */
import * as http from 'node:http';
import * as net from 'node:net';

/**
 * Where our listening ports are picked: below the kernel's ephemeral range (Linux: 32768-60999), which outgoing
 * connections draw from. A port the OS hands out for `listen(0)` lies inside that range and can be taken by one of
 * the many outgoing connections (gRPC to the emulators, HTTP) before the process that should bind it starts — that
 * race was seen in CI (a function process failing with EADDRINUSE).
 */
const PICK_FROM = 10_000;
const PICK_TO = 32_000;

function randomPort(count = 1): number {
  return PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM - count));
}

/** A port that was free a moment ago, outside the ephemeral range. */
export async function freePort(attempts = 200): Promise<number> {
  for (let i = 0; i < attempts; i += 1) {
    const port = randomPort();
    if (await isPortFree(port)) return port;
  }
  throw new Error('could not allocate a free port');
}

/** True when we can bind `port` on all interfaces (as the functions framework does). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive ports that are all free (e.g. SAGA_FUNCTIONS_BASE_PORT for a test stack). */
export async function freePortRange(count: number, attempts = 50): Promise<number> {
  for (let i = 0; i < attempts; i += 1) {
    const base = randomPort(count);
    const ports = Array.from({ length: count }, (_, j) => base + j);
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET `url`; null when nothing answers (connection refused / unknown host / timeout without connection). */
export function httpGet(url: string, timeoutMs = 1000): Promise<HttpAnswer | 'no-http' | null> {
  return new Promise((resolve) => {
    let connected = false;
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve('no-http'));
    });
    req.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(connected ? 'no-http' : null));
  });
}

export type Probe = 'emulator' | 'other' | 'none';

/** What answers at HOST:PORT: an emulator (GET / → 200 "Ok"), something else, or nothing. */
export async function probeEmulator(hostPort: string): Promise<Probe> {
  const answer = await httpGet(`http://${hostPort}/`);
  if (answer === null) return 'none';
  if (answer === 'no-http') return 'other';
  return answer.status === 200 && answer.body.trim() === 'Ok' ? 'emulator' : 'other';
}
