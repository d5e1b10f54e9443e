/** Port helpers: free ports, "is anything listening here", "is it an emulator". */
import * as http from 'node:http';
import * as net from 'node:net';

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not allocate a free port'))));
    });
  });
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
    const base = 20_000 + Math.floor(Math.random() * 30_000);
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
