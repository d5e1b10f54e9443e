/**
 * The local harness against the real emulators: topology provisioning (read back), dead-lettering after
 * maxDeliveryAttempts, repairing and parking subscriptions, seeding, and the emulator start/reuse rules.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { GCLOUD_MISSING, resetFirestore, startEmulators } from '../../emulator/emulators';
import { freePort } from '../../emulator/ports';
import {
  createTapSubscription,
  localDeadLetterTopic,
  parkSubscriptions,
  provisionTopology,
  type ProvisionOptions,
  type ProvisionResult,
} from '../../emulator/provision';
import { loadSeedFile, parseSeed, seedData, seedFromFile } from '../../emulator/seed';
import { CAR_COLLECTIONS } from '../../shared/participants/cars';
import { CREDIT_COLLECTIONS } from '../../shared/participants/credit';
import { FLIGHT_COLLECTIONS } from '../../shared/participants/flights';
import { HOTEL_COLLECTIONS } from '../../shared/participants/hotels';
import { INVENTORY_COLLECTIONS } from '../../shared/participants/inventory';
import { ALL_TOPICS, FUNCTION_KEYS, SUBSCRIPTIONS, TOPICS, type FunctionKey } from '../../shared/topology';
import { emulatorHosts, useTestProject } from '../support/env';

const projectId = useTestProject('harness');
const hosts = emulatorHosts();

/** A push endpoint that always answers 500, counting requests per path. */
interface FailingEndpoint {
  url: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

async function failingEndpoint(): Promise<FailingEndpoint> {
  const port = await freePort();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.set(req.url ?? '/', (hits.get(req.url ?? '/') ?? 0) + 1);
      res.writeHead(500).end('boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function endpointsAt(base: string): Record<FunctionKey, string> {
  return Object.fromEntries(FUNCTION_KEYS.map((k) => [k, `${base}/${k}`]));
}

function nextMessage(sub: ReturnType<PubSub['subscription']>, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no message on ${sub.name} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sub.once('message', (m: Message) => {
      clearTimeout(timer);
      m.ack();
      resolve(m);
    });
    sub.once('error', reject);
  });
}

describe('emulator harness', () => {
  const pubsub = new PubSub({ projectId });
  let endpoint: FailingEndpoint;
  let options: ProvisionOptions;
  let first: ProvisionResult;

  beforeAll(async () => {
    endpoint = await failingEndpoint();
    options = {
      projectId,
      endpoints: endpointsAt(endpoint.url),
      maxDeliveryAttempts: 5,
      minBackoffS: 0.1,
      maxBackoffS: 0.5,
    };
    first = await provisionTopology(options);
  });

  afterAll(async () => {
    await pubsub.close();
    await endpoint.close();
  });

  test('provisioning creates every topic and push subscription with the declared policies', async () => {
    expect([...first.topicsCreated].sort()).toEqual([...ALL_TOPICS].sort());
    expect([...first.subscriptionsCreated].sort()).toEqual(SUBSCRIPTIONS.map((s) => s.name).sort());

    const [topics] = await pubsub.getTopics();
    expect(topics.map((t) => t.name.split('/').pop()).sort()).toEqual(
      expect.arrayContaining([...ALL_TOPICS]),
    );
    for (const spec of SUBSCRIPTIONS) {
      const [meta] = await pubsub.subscription(spec.name).getMetadata();
      expect(meta.topic).toBe(`projects/${projectId}/topics/${spec.topic}`);
      expect(meta.pushConfig?.pushEndpoint).toBe(options.endpoints[spec.consumer]);
      expect(meta.ackDeadlineSeconds).toBe(60);
      expect(Boolean(meta.enableMessageOrdering)).toBe(spec.ordered);
      expect(meta.retryPolicy?.minimumBackoff).toMatchObject({ nanos: 100_000_000 });
      expect(meta.retryPolicy?.maximumBackoff).toMatchObject({ nanos: 500_000_000 });
      // Ordered subscriptions carry no dead-letter policy locally (emulator/provision.ts).
      if (localDeadLetterTopic(spec) === null) {
        expect(meta.deadLetterPolicy ?? null).toBeNull();
      } else {
        expect(meta.deadLetterPolicy).toMatchObject({
          deadLetterTopic: `projects/${projectId}/topics/${spec.deadLetterTopic}`,
          maxDeliveryAttempts: 5,
        });
      }
    }
  });

  test('provisioning again is idempotent and re-points the push endpoints', async () => {
    const moved = { ...options, endpoints: endpointsAt(`${endpoint.url}/moved`), maxDeliveryAttempts: 7 };
    const result = await provisionTopology(moved);
    expect(result.topicsCreated).toEqual([]);
    expect(result.subscriptionsCreated).toEqual([]);
    expect(result.subscriptionsUpdated).toHaveLength(SUBSCRIPTIONS.length);
    expect(result.subscriptionsRecreated).toEqual([]);
    const spec = SUBSCRIPTIONS.find((s) => localDeadLetterTopic(s) !== null)!;
    const [meta] = await pubsub.subscription(spec.name).getMetadata();
    expect(meta.pushConfig?.pushEndpoint).toBe(moved.endpoints[spec.consumer]);
    expect(meta.deadLetterPolicy?.maxDeliveryAttempts).toBe(7);
    await provisionTopology(options);
  });

  test('a message its consumer keeps failing lands on the -dlq topic after maxDeliveryAttempts', async () => {
    const tap = await createTapSubscription(`${TOPICS.paymentCommands}-dlq`, `tap-${projectId}`, pubsub);
    const received = nextMessage(tap, 60_000);
    await pubsub
      .topic(TOPICS.paymentCommands)
      .publishMessage({ json: { hello: 'dlq' }, attributes: { probe: '1' } });
    const message = await received;
    await tap.close();

    expect(JSON.parse(message.data.toString('utf8'))).toEqual({ hello: 'dlq' });
    expect(message.attributes.probe).toBe('1');
    expect(message.attributes.CloudPubSubDeadLetterSourceSubscription).toBeDefined();
    expect(endpoint.hits.get('/payment')).toBe(5);
  });
});

/** A push endpoint answering `status` (settable), recording each message's data per path. */
interface RecordingEndpoint {
  url: string;
  status: number;
  received(urlPath: string): string[];
  close(): Promise<void>;
}

async function recordingEndpoint(): Promise<RecordingEndpoint> {
  const port = await freePort();
  const got = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: { data?: string } };
      const data = Buffer.from(body.message?.data ?? '', 'base64').toString('utf8');
      const key = req.url ?? '/';
      got.set(key, [...(got.get(key) ?? []), data]);
      res.writeHead(endpoint.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const endpoint: RecordingEndpoint = {
    url: `http://127.0.0.1:${String(port)}`,
    status: 204,
    received: (urlPath) => got.get(urlPath) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  return endpoint;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${String(timeoutMs)} ms`);
    await sleep(100);
  }
}

describe('repairing and parking subscriptions (measured on the Pub/Sub emulator 0.8.20)', () => {
  const pubsub = new PubSub({ projectId });
  const bySpec = (consumer: string) => SUBSCRIPTIONS.find((s) => s.consumer === consumer)!;
  let endpoint: RecordingEndpoint;
  let options: ProvisionOptions;

  beforeAll(async () => {
    endpoint = await recordingEndpoint();
    options = {
      projectId,
      endpoints: endpointsAt(endpoint.url),
      maxDeliveryAttempts: 5,
      minBackoffS: 0.1,
      maxBackoffS: 0.5,
    };
    await provisionTopology(options);
  });

  afterAll(async () => {
    await pubsub.close();
    await endpoint.close();
  });

  test('an ordered subscription whose push loop died dead-lettering is re-created and delivers again', async () => {
    const spec = bySpec('inventory');
    const sub = pubsub.subscription(spec.name);
    // As provisioned before: ordered, with a dead-letter policy.
    await sub.delete();
    await pubsub.topic(spec.topic).createSubscription(spec.name, {
      pushConfig: { pushEndpoint: options.endpoints.inventory },
      ackDeadlineSeconds: 60,
      enableMessageOrdering: true,
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 1 } },
      deadLetterPolicy: {
        deadLetterTopic: `projects/${projectId}/topics/${spec.deadLetterTopic ?? ''}`,
        maxDeliveryAttempts: 5,
      },
    });
    const topic = pubsub.topic(spec.topic, { messageOrdering: true });
    endpoint.status = 500;
    await topic.publishMessage({ data: Buffer.from('doomed'), orderingKey: 'sku:a' });
    await waitUntil('5 failed pushes', () => endpoint.received('/inventory').length >= 5, 30_000);
    await sleep(3000); // the next pull tries to dead-letter it: the emulator's push loop dies
    endpoint.status = 204;
    await sub.modifyPushConfig({ pushEndpoint: options.endpoints.inventory });
    await topic.publishMessage({ data: Buffer.from('stuck'), orderingKey: 'sku:b' });
    await sleep(4000);
    // The emulator bug being repaired; if this fails, the emulator was fixed: revisit emulator/provision.ts.
    expect(endpoint.received('/inventory')).not.toContain('stuck');

    const result = await provisionTopology(options);
    expect(result.subscriptionsRecreated).toEqual([
      { name: spec.name, reason: 'ordered with a dead-letter policy' },
    ]);
    const [meta] = await sub.getMetadata();
    expect(meta.deadLetterPolicy ?? null).toBeNull();
    await topic.publishMessage({ data: Buffer.from('after'), orderingKey: 'sku:b' });
    await waitUntil(
      'delivery after the repair',
      () => endpoint.received('/inventory').includes('after'),
      15_000,
    );
    expect(endpoint.received('/inventory')).not.toContain('stuck'); // dropped with the old subscription
  });

  test('parked subscriptions attempt nothing and deliver their whole backlog, in order, once re-pointed', async () => {
    await parkSubscriptions(projectId);
    const [parked] = await pubsub.subscription(bySpec('credit').name).getMetadata();
    expect(parked.pushConfig?.pushEndpoint ?? '').toBe('');
    const credit = pubsub.topic(bySpec('credit').topic, { messageOrdering: true });
    const payment = pubsub.topic(bySpec('payment').topic);
    const sent = ['parked-1', 'parked-2', 'parked-3'];
    for (const data of sent) {
      await credit.publishMessage({ data: Buffer.from(data), orderingKey: 'customer:p' });
      await payment.publishMessage({ data: Buffer.from(data) });
    }
    await sleep(3000);
    expect(endpoint.received('/credit')).toEqual([]);
    expect(endpoint.received('/payment')).toEqual([]);

    const result = await provisionTopology(options);
    expect(result.subscriptionsRecreated).toEqual([]);
    await waitUntil(
      'the parked backlog',
      () => endpoint.received('/credit').length >= 3 && endpoint.received('/payment').length >= 3,
      15_000,
    );
    expect(endpoint.received('/credit')).toEqual(sent);
    expect([...endpoint.received('/payment')].sort()).toEqual(sent);
  });
});

describe('seeding', () => {
  const firestore = new Firestore({ projectId });
  const customer = (id: string) => firestore.collection(CREDIT_COLLECTIONS.customers).doc(id);
  const product = (id: string) => firestore.collection(INVENTORY_COLLECTIONS.products).doc(id);
  const flight = (id: string) => firestore.collection(FLIGHT_COLLECTIONS.flights).doc(id);
  const hotel = (id: string) => firestore.collection(HOTEL_COLLECTIONS.hotels).doc(id);
  const carClass = (id: string) => firestore.collection(CAR_COLLECTIONS.carClasses).doc(id);
  const data = {
    customers: [
      { customerId: 'c-1', creditLimitCents: 1000 },
      { customerId: '__odd__', creditLimitCents: 5 },
    ],
    products: [{ sku: 'sku-1', available: 3 }],
  };

  afterAll(() => firestore.terminate());

  test('upserts exactly: seeding twice resets the values', async () => {
    await seedData(firestore, data);
    await customer('c-1').set({ creditUsedCents: 700, extra: true }, { merge: true });
    await product('sku-1').update({ available: 0 });
    const summary = await seedData(firestore, data);

    expect(summary).toEqual({
      customers: ['c-1', '__odd__'],
      products: ['sku-1'],
      flights: [],
      hotels: [],
      cars: [],
    });
    expect((await customer('c-1').get()).data()).toEqual({
      customerId: 'c-1',
      creditLimitCents: 1000,
      creditUsedCents: 0,
    });
    expect((await customer('~__odd__').get()).data()).toMatchObject({ customerId: '__odd__' });
    expect((await product('sku-1').get()).data()).toEqual({ sku: 'sku-1', available: 3 });
  });

  test('upserts flights, hotels and car classes exactly', async () => {
    const trips = {
      flights: [
        { flightId: 'f-1', seats: 100 },
        { flightId: '__f__', seats: 0 },
      ],
      hotels: [{ hotelId: 'h-1', rooms: 20 }],
      cars: [{ carClass: 'compact', available: 10 }],
    };
    await seedData(firestore, trips);
    await flight('f-1').update({ seatsAvailable: 7, extra: true });
    await hotel('h-1').update({ roomsAvailable: 0 });
    await carClass('compact').update({ available: 2 });
    const summary = await seedData(firestore, trips);

    expect(summary).toEqual({
      customers: [],
      products: [],
      flights: ['f-1', '__f__'],
      hotels: ['h-1'],
      cars: ['compact'],
    });
    expect((await flight('f-1').get()).data()).toEqual({ flightId: 'f-1', seatsAvailable: 100 });
    expect((await flight('~__f__').get()).data()).toEqual({ flightId: '__f__', seatsAvailable: 0 });
    expect((await hotel('h-1').get()).data()).toEqual({ hotelId: 'h-1', roomsAvailable: 20 });
    expect((await carClass('compact').get()).data()).toEqual({ carClass: 'compact', available: 10 });
  });

  test('seeds more than one batch (500 writes)', async () => {
    const many = {
      customers: [],
      products: Array.from({ length: 620 }, (_, i) => ({ sku: `bulk-${i}`, available: i })),
    };
    await seedData(firestore, many);
    const bulk = firestore
      .collection(INVENTORY_COLLECTIONS.products)
      .where('sku', '>=', 'bulk-')
      .where('sku', '<', 'bulk.');
    const snap = await bulk.get();
    expect(snap.size).toBe(620);
    expect((await product('bulk-619').get()).data()).toEqual({ sku: 'bulk-619', available: 619 });
  });

  test('the demo seed file is valid and seedFromFile upserts it', async () => {
    const demo = path.join(__dirname, '..', '..', 'emulator', 'seed.json');
    const seed = loadSeedFile(demo);
    expect(seed.customers.map((c) => c.customerId)).toEqual(['c-1', 'c-2', 'c-poor']);
    expect(seed.flights.map((f) => f.flightId)).toEqual(['f-1', 'f-full']);
    expect(seed.hotels.map((h) => h.hotelId)).toEqual(['h-1', 'h-full']);
    expect(seed.cars.map((c) => c.carClass)).toEqual(['compact', 'van']);
    await seedFromFile(demo, firestore);
    expect((await product('sku-3').get()).data()).toEqual({ sku: 'sku-3', available: 0 });
    expect((await flight('f-full').get()).data()).toEqual({ flightId: 'f-full', seatsAvailable: 0 });
    expect((await hotel('h-1').get()).data()).toEqual({ hotelId: 'h-1', roomsAvailable: 20 });
    expect((await carClass('van').get()).data()).toEqual({ carClass: 'van', available: 0 });
  });

  test('bad seed files are rejected naming the file and the JSON path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-'));
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ customers: [], products: [{ sku: 'ok', available: -1 }] }));
    expect(() => loadSeedFile(bad)).toThrow(`${bad}: invalid seed file:\n  $.products[0].available:`);
    fs.writeFileSync(bad, '{"customers": [');
    expect(() => loadSeedFile(bad)).toThrow(`${bad}: $: not valid JSON`);
    expect(() =>
      parseSeed({ customers: [{ customerId: 'c', creditLimitCents: 1, x: 1 }] }, 'f.json'),
    ).toThrow(/f\.json: invalid seed file:\n {2}\$\.customers\[0\]: .*"x"/);
    expect(() => parseSeed({ customers: [{ customerId: 'a b', creditLimitCents: 1.5 }] }, 'f.json')).toThrow(
      /\$\.customers\[0\]\.customerId: .*\n {2}\$\.customers\[0\]\.creditLimitCents/,
    );
    expect(() => parseSeed({ vendors: [] }, 'f.json')).toThrow(/\$: .*"vendors"/);
    expect(() =>
      parseSeed(
        {
          flights: [
            { flightId: 'f', seats: 1 },
            { flightId: 'f', seats: -1 },
          ],
          hotels: [{ hotelId: 'h', rooms: 1.5 }],
          cars: [{ carClass: 'a b', available: 1 }, { carClass: 'van' }],
        },
        'f.json',
      ),
    ).toThrow(
      new RegExp(
        [
          /\$\.flights\[1\]\.seats: /,
          /\$\.flights\[1\]: duplicate flightId f/,
          /\$\.hotels\[0\]\.rooms: /,
          /\$\.cars\[0\]\.carClass: /,
          /\$\.cars\[1\]\.available: /,
        ]
          .map((r) => r.source)
          .join('[^]*'),
      ),
    );
    expect(() => parseSeed({ flights: [{ flightId: 'f', seats: 1, rooms: 1 }] }, 'f.json')).toThrow(
      /\$\.flights\[0\]: .*"rooms"/,
    );
    fs.rmSync(dir, { recursive: true });
  });

  test('resetFirestore deletes every document of the project', async () => {
    await seedData(firestore, data);
    await resetFirestore(hosts.firestore, projectId);
    expect((await customer('c-1').get()).exists).toBe(false);
  });
});

describe('startEmulators', () => {
  test('reuses a running emulator and never stops it', async () => {
    const handle = await startEmulators({
      projectId,
      pubsubHost: hosts.pubsub,
      firestoreHost: hosts.firestore,
      reuseIfRunning: true,
    });
    expect([handle.pubsub.started, handle.firestore.started]).toEqual([false, false]);
    await handle.stop();
    const res = await fetch(`http://${hosts.pubsub}/`);
    expect((await res.text()).trim()).toBe('Ok');
  });

  test('refuses a port taken by something that is not an emulator, naming the variable', async () => {
    const other = await failingEndpoint();
    try {
      await expect(
        startEmulators({
          projectId,
          pubsubHost: other.url.replace('http://', ''),
          firestoreHost: hosts.firestore,
          reuseIfRunning: true,
        }),
      ).rejects.toThrow(/port in use: PUBSUB_EMULATOR_HOST=127\.0\.0\.1:\d+/);
    } finally {
      await other.close();
    }
  });

  test('says how to install the Google Cloud CLI when gcloud is missing', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(os.tmpdir(), 'no-such-dir');
    try {
      await expect(startEmulators({ projectId, reuseIfRunning: false })).rejects.toThrow(GCLOUD_MISSING);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  test('refuses a running emulator when not allowed to reuse it', async () => {
    await expect(
      startEmulators({
        projectId,
        firestoreHost: hosts.firestore,
        pubsubHost: hosts.pubsub,
        reuseIfRunning: false,
      }),
    ).rejects.toThrow(/port in use: (PUBSUB|FIRESTORE)_EMULATOR_HOST/);
  });
});
