/**
 * A front door per function, standing in for Cloud Run's front end: it owns the function's public port and
 * forwards each request to the function process behind it. While that process is down (crashed, SIGKILLed,
 * restarting) a request is held and retried until the process answers again, instead of failing the connection.
 *
 * Why: measured on the Pub/Sub emulator (0.8.20), a push subscription whose endpoint refuses connections for a
 * while stops delivering part of its backlog for good (e.g. 39 of 156 messages never delivered, nor dead-lettered,
 * within 150 s). Cloud Run does not refuse connections while an instance restarts, so neither does the harness.
 * Answers from the function itself — including 5xx, which Pub/Sub retries — pass through unchanged.
 */
import * as http from 'node:http';
import { errorBody } from '../shared/http/error-body';

export interface FrontDoor {
  close(): Promise<void>;
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
}

const RETRY_MS = 100;

export function startFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  const holdMs = opts.holdMs ?? 45_000;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
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
    server.listen(opts.publicPort, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
