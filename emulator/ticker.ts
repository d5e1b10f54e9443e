/** Stands in for Cloud Scheduler locally: publishes a tick to the sweeper's topic every interval. */
import { TOPICS } from '../shared/topology';

export interface Ticker {
  /** Ticks published so far. */
  count(): number;
  /** No more ticks; resolves once a publish still in flight has settled (its client may then be closed). */
  stop(): Promise<void>;
}

/** What the ticker needs of a Pub/Sub client (a `PubSub` is one). */
export interface TickPublisher {
  topic(name: string): { publishMessage(message: { data: Buffer }): Promise<unknown> };
}

export function tickMessage(at: Date = new Date()): Buffer {
  return Buffer.from(JSON.stringify({ type: 'saga.tick', at: at.toISOString() }));
}

export function startTicker(
  pubsub: TickPublisher,
  intervalMs: number,
  onError: (err: unknown) => void,
): Ticker {
  const topic = pubsub.topic(TOPICS.sagaTicks);
  let count = 0;
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const p: Promise<void> = topic.publishMessage({ data: tickMessage() }).then(
      () => void (count += 1),
      (err: unknown) => onError(err),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, intervalMs);
  timer.unref();
  return {
    count: () => count,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
