/** Stands in for Cloud Scheduler locally: publishes a tick to the sweeper's topic every interval. */
import type { PubSub } from '@google-cloud/pubsub';
import { TOPICS } from '../shared/topology';

export interface Ticker {
  /** Ticks published so far. */
  count(): number;
  stop(): void;
}

export function tickMessage(at: Date = new Date()): Buffer {
  return Buffer.from(JSON.stringify({ type: 'saga.tick', at: at.toISOString() }));
}

export function startTicker(pubsub: PubSub, intervalMs: number, onError: (err: unknown) => void): Ticker {
  const topic = pubsub.topic(TOPICS.sagaTicks);
  let count = 0;
  const timer = setInterval(() => {
    topic.publishMessage({ data: tickMessage() }).then(
      () => (count += 1),
      (err: unknown) => onError(err),
    );
  }, intervalMs);
  timer.unref();
  return { count: () => count, stop: () => clearInterval(timer) };
}
