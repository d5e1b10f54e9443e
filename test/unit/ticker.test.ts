/**
 * The local ticker (Cloud Scheduler's stand-in): its stop waits for a tick still being published, so the stack can
 * close its Pub/Sub client afterwards without failing that publish ("Cannot use a closed PubSub object").
 */
import { startTicker, type TickPublisher } from '../../emulator/ticker';
import { TOPICS } from '../../shared/topology';

function slowPublisher(): {
  publisher: TickPublisher;
  topics: string[];
  settle: () => void;
  pending: () => number;
} {
  const topics: string[] = [];
  const waiting: (() => void)[] = [];
  return {
    topics,
    publisher: {
      topic: (name) => ({
        publishMessage: () => {
          topics.push(name);
          return new Promise<void>((resolve) => waiting.push(resolve));
        },
      }),
    },
    settle: () => waiting.splice(0).forEach((resolve) => resolve()),
    pending: () => waiting.length,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('stop resolves only once the tick in flight is published, and no tick starts after it', async () => {
  const fake = slowPublisher();
  const errors: unknown[] = [];
  const ticker = startTicker(fake.publisher, 10, (err) => errors.push(err));
  while (fake.pending() === 0) await sleep(5);
  let stopped = false;
  const stopping = ticker.stop().then(() => (stopped = true));
  await sleep(50);
  expect(stopped).toBe(false);
  const started = fake.topics.length;
  fake.settle();
  await stopping;
  expect(stopped).toBe(true);
  expect(ticker.count()).toBe(started);
  await sleep(50);
  expect(fake.topics).toHaveLength(started);
  expect(new Set(fake.topics)).toEqual(new Set([TOPICS.sagaTicks]));
  expect(errors).toEqual([]);
});

test('a failed tick is reported, not counted, and does not hold up stop', async () => {
  const errors: unknown[] = [];
  const failing: TickPublisher = {
    topic: () => ({ publishMessage: () => Promise.reject(new Error('down')) }),
  };
  const ticker = startTicker(failing, 5, (err) => errors.push(err));
  while (errors.length === 0) await sleep(5);
  await ticker.stop();
  expect(ticker.count()).toBe(0);
  expect(String(errors[0])).toContain('down');
});
