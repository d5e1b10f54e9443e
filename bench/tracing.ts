/**
 * The tracing phase: what tracing costs. An A/B phase (bench/ab.ts) of the same orders on two stacks running the
 * same code, one with tracing as `npm start` runs it (`SAGA_TRACING` unset: local spans) and one with
 * `SAGA_TRACING=off` (no SDK installed). Orders are spread over distinct customers and 32 SKUs (no hot key).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EmulatorsHandle } from '../emulator/emulators';
import { abPhase, type AbFigures } from './ab';
import { note } from './progress';
import { round } from './stats';

const SKUS = 32;

export interface TracingArgs {
  orders: number;
  concurrency: number;
  rounds: number;
  warmup: number;
}

export interface TracingPhaseResult {
  orders: number;
  concurrency: number;
  rounds: number;
  traced: AbFigures;
  untraced: AbFigures;
  /** traced sagas/s ÷ untraced sagas/s (1 = tracing costs no throughput). */
  throughputRatio: number;
  /** traced p50 ÷ untraced p50. */
  p50Ratio: number;
}

function orders(prefix: string, n: number): object[] {
  return Array.from({ length: n }, (_, i) => ({
    customerId: `${prefix}-${i}`,
    items: [{ sku: `bench-tr-${i % SKUS}`, quantity: 1, unitPriceCents: 1000 }],
    paymentToken: 'tok_visa',
  }));
}

function seedFile(args: TracingArgs): string {
  const customers = ['bench-w', 'bench-m'].flatMap((prefix) =>
    Array.from({ length: Math.max(args.orders, args.warmup) }, (_, i) => ({
      customerId: `${prefix}-${i}`,
      creditLimitCents: 100_000_000,
    })),
  );
  const products = Array.from({ length: SKUS }, (_, i) => ({ sku: `bench-tr-${i}`, available: 1_000_000 }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'saga-bench-tracing-')), 'seed.json');
  fs.writeFileSync(file, JSON.stringify({ customers, products }));
  return file;
}

export async function tracingPhase(
  emulators: EmulatorsHandle,
  args: TracingArgs,
): Promise<TracingPhaseResult> {
  const [traced, untraced] = await abPhase(emulators, {
    route: { path: '/orders', idField: 'orderId' },
    seedFile: seedFile(args),
    sides: [
      { label: 'traced', env: {} },
      { label: 'untraced', env: { SAGA_TRACING: 'off' } },
    ],
    bodies: orders,
    n: args.orders,
    concurrency: args.concurrency,
    rounds: args.rounds,
    warmup: args.warmup,
    succeeded: 'APPROVED',
  });
  const result: TracingPhaseResult = {
    ...args,
    traced,
    untraced,
    throughputRatio: round(traced.sagasPerSec / Math.max(1e-9, untraced.sagasPerSec), 3),
    p50Ratio: round(traced.p50Ms / Math.max(1, untraced.p50Ms), 3),
  };
  note(
    `tracing: ${traced.sagasPerSec} sagas/s traced vs ${untraced.sagasPerSec} untraced (ratio ${result.throughputRatio}); ` +
      `p50 ${traced.p50Ms} vs ${untraced.p50Ms} ms`,
  );
  return result;
}
