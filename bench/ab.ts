/**
 * An A/B phase: two stacks started alike on the benchmark's emulators, differing only in their environment (a
 * definition version pinned, tracing off, …). After a warm-up on each, the same requests at the same concurrency run
 * on both, interleaved in rounds (alternating which goes first), so a change of the machine's load hits both alike.
 * A tap on each stack counts the messages per saga. Both stacks are stopped before it returns.
 */
import type { PubSub } from '@google-cloud/pubsub';
import { pubsubClient } from '../emulator/clients';
import type { EmulatorsHandle } from '../emulator/emulators';
import { startStack, type Stack } from '../emulator/stack';
import { runLoad, type LoadResult, type SagaRoute } from './load';
import { note, Progress } from './progress';
import { latencyFigures } from './report';
import { mean, percentile, round } from './stats';
import { projectId, stackEnv } from './stacks';
import { Tap } from './tap';

export interface AbSide {
  /** Short name, used in progress lines and project ids (e.g. `v1`, `untraced`). */
  label: string;
  env: NodeJS.ProcessEnv;
}

export interface AbOptions {
  route: SagaRoute;
  seedFile: string;
  sides: readonly [AbSide, AbSide];
  /** `n` request bodies; `prefix` keeps the warm-up's ids apart from the measured ones. */
  bodies: (prefix: string, n: number) => object[];
  n: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  /** The resource status of a saga that succeeded (`APPROVED`, `CONFIRMED`). */
  succeeded: string;
}

export interface AbFigures {
  label: string;
  sagas: number;
  sagasPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  /** p50 of the saga's own duration (first history entry → terminal: without the api's POST). */
  sagaP50Ms: number;
  messagesPerSaga: number;
  succeeded: number;
  /** Sagas that ended otherwise. */
  notSucceeded: number;
  /** Requests that failed to post or to finish. */
  errors: number;
}

interface Side {
  label: string;
  stack: Stack;
  tap: Tap;
  chunks: LoadResult[];
}

async function load(
  label: string,
  stack: Stack,
  route: SagaRoute,
  bodies: object[],
  concurrency: number,
): Promise<LoadResult> {
  const bar = new Progress(label, bodies.length);
  const r = await runLoad({
    apiUrl: stack.apiUrl,
    orders: bodies,
    route,
    concurrency,
    onProgress: (d) => bar.update(d),
  });
  bar.finish(`${r.perSec.toFixed(1)} sagas/s${r.errors.length > 0 ? `, ${r.errors.length} errors` : ''}`);
  for (const e of r.errors.slice(0, 5)) note(`  error: ${e}`);
  return r;
}

function figures(side: Side, succeededStatus: string): AbFigures {
  const results = side.chunks.flatMap((c) => c.orders);
  const ids = results.map((o) => o.orderId);
  const latencies = results.map((o) => o.latencyMs);
  const spanMs = side.chunks.reduce((s, c) => s + c.spanMs, 0);
  const succeeded = results.filter((o) => o.status === succeededStatus).length;
  return {
    label: side.label,
    sagas: results.length,
    sagasPerSec: round((results.length * 1000) / Math.max(1, spanMs), 2),
    ...latencyFigures(latencies),
    meanMs: round(mean(latencies), 0),
    sagaP50Ms: round(
      percentile(
        results.map((o) => o.sagaMs),
        50,
      ),
      0,
    ),
    messagesPerSaga: round(side.tap.count(ids) / Math.max(1, ids.length), 2),
    succeeded,
    notSucceeded: results.length - succeeded,
    errors: side.chunks.reduce((s, c) => s + c.errors.length, 0),
  };
}

export async function abPhase(emulators: EmulatorsHandle, opts: AbOptions): Promise<[AbFigures, AbFigures]> {
  const stacks: Stack[] = [];
  const clients: PubSub[] = [];
  const sides: Side[] = [];
  try {
    for (const { label, env } of opts.sides) {
      note(`${label}: starting its stack…`);
      const stack = await startStack({
        env: await stackEnv(emulators, projectId(label), {
          SAGA_SEED_FILE: opts.seedFile,
          SAGA_LOG_LEVEL: 'WARNING',
          ...env,
        }),
      });
      stacks.push(stack);
      if (opts.warmup > 0) {
        await load(
          `${label} warm-up`,
          stack,
          opts.route,
          opts.bodies('bench-w', opts.warmup),
          opts.concurrency,
        );
      }
      const client = pubsubClient(stack.config.projectId, stack.pubsubHost);
      clients.push(client);
      sides.push({ label, stack, tap: await Tap.start(client), chunks: [] });
    }
    const all = opts.bodies('bench-m', opts.n);
    const size = Math.ceil(all.length / opts.rounds);
    for (let r = 0; r < opts.rounds; r += 1) {
      const chunk = all.slice(r * size, (r + 1) * size);
      if (chunk.length === 0) break;
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        side.chunks.push(
          await load(
            `${side.label} ${r + 1}/${opts.rounds}`,
            side.stack,
            opts.route,
            chunk,
            opts.concurrency,
          ),
        );
      }
    }
    await Promise.all(sides.map((s) => s.tap.settle()));
    return [figures(sides[0]!, opts.succeeded), figures(sides[1]!, opts.succeeded)];
  } finally {
    await Promise.all(sides.map((s) => s.tap.stop()));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(stacks.map((s) => s.stop()));
  }
}
