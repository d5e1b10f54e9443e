/**
 * A front door per function, standing in for Cloud Run's front end: it owns the function's public port and
 * forwards each request to the function process behind it. While that process is down (crashed, SIGKILLed,
 * restarting) a request is held and retried until the process answers again, instead of failing the connection.
 *
 * Why: measured on the Pub/Sub emulator (0.8.20), a push subscription whose endpoint refuses connections for a
 * while stops delivering part of its backlog for good (e.g. 39 of 156 messages never delivered, nor dead-lettered,
 * within 150 s). Cloud Run does not refuse connections while an instance restarts, so neither does the harness.
 * Answers from the function itself — including 5xx, which Pub/Sub retries — pass through unchanged.
 *
 * A front door listens on 127.0.0.1 only (the local stack is not meant to be reachable from other machines), and it
 * holds at most `maxBodyBytes` of a request body: a larger body is answered `413 PAYLOAD_TOO_LARGE` with the
 * contract's error body as soon as it is known to be too large (its Content-Length, or the bytes read so far), and the
 * rest of it is discarded, never buffered.
 *
 * drain() is how a stopping stack lets its functions finish what they hold: a process killed mid-request abandons its
 * Firestore transaction, and the Firestore emulator (1.19.9) then keeps that transaction's documents locked for about
 * a minute (measured: 73 s until another transaction on the document committed; plain writes are not blocked).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody } from '../shared/runtime/http/error-body';
import { API_MAX_BODY_BYTES, PUSH_MAX_BODY_BYTES } from '../shared/runtime/http/limits';

export interface FrontDoor {
  /** Where it listens (127.0.0.1 and the public port). */
  address(): AddressInfo;
  /**
   * Takes no more requests (new connections are refused, a new request on an open one is dropped) and resolves once
   * none is in flight, or after `maxMs`.
   */
  drain(maxMs: number): Promise<void>;
  close(): Promise<void>;
}

export const FRONT_DOOR_HOST = '127.0.0.1';

/**
 * The body a front door holds: a bit above the api's own limit (so the api answers 64 KiB + 1 itself, as in the
 * cloud), and a push endpoint's limit for the others.
 */
export function frontDoorBodyLimit(kind: 'api' | 'push'): number {
  return kind === 'api' ? API_MAX_BODY_BYTES + 16 * 1024 : PUSH_MAX_BODY_BYTES;
}

export interface FrontDoorOptions {
  name: string;
  publicPort: number;
  targetPort: number;
  /** How long a request may wait for the process to come back. */
  holdMs?: number;
  /**
   * Replay a request the process died while handling. True for Pub/Sub push endpoints (delivery is at-least-once
   * and every consumer is idempotent); false for the api, whose caller gets a 503 and retries with its
   * Idempotency-Key — as with Cloud Run, a request in flight on a crashed instance is not replayed.
   */
  replayInFlight: boolean;
  /** The largest request body held and forwarded; larger ones are answered 413 (see frontDoorBodyLimit). */
  maxBodyBytes: number;
}

const RETRY_MS = 100;

export function startFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  const holdMs = opts.holdMs ?? 45_000;
  let inFlight = 0;
  let draining = false;
  const server = http.createServer((req, res) => {
    if (draining) {
      req.socket.destroy();
      return;
    }
    inFlight += 1;
    res.once('close', () => (inFlight -= 1));
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (): void => {
      refused = true;
      chunks.length = 0;
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(errorBody('PAYLOAD_TOO_LARGE', `request body exceeds ${opts.maxBodyBytes} bytes`)),
      );
    };
    if (Number(req.headers['content-length'] ?? 0) > opts.maxBodyBytes) refuse();
    req.on('data', (c: Buffer) => {
      if (refused) return; // discarded
      size += c.length;
      if (size > opts.maxBodyBytes) refuse();
      else chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      const deadline = Date.now() + holdMs;
      const attempt = (): void => {
        const upstream = http.request(
          {
            host: '127.0.0.1',
            port: opts.targetPort,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          if (res.headersSent || res.destroyed) {
            res.destroy();
            return;
          }
          // Not up yet (refused: the request never reached it), or died while handling a replayable request.
          const retry = err.code === 'ECONNREFUSED' || opts.replayInFlight;
          if (retry && Date.now() < deadline) {
            setTimeout(attempt, RETRY_MS);
            return;
          }
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(errorBody('UNAVAILABLE', `${opts.name} did not come back`)));
        });
        upstream.end(body);
      };
      attempt();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.publicPort, FRONT_DOOR_HOST, () =>
      resolve({
        address: () => server.address() as AddressInfo,
        drain: async (maxMs) => {
          draining = true;
          server.close(); // no new connections; closes the idle ones
          const until = Date.now() + maxMs;
          while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
