/**
 * The local harness against the real emulators: topology provisioning (read back), dead-lettering after
 * maxDeliveryAttempts, seeding, and the emulator start/reuse rules.
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
  provisionTopology,
  type ProvisionOptions,
  type ProvisionResult,
} from '../../emulator/provision';
import { loadSeedFile, parseSeed, seedData, seedFromFile } from '../../emulator/seed';
import { COLLECTIONS } from '../../shared/store/collections';
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
  return Object.fromEntries(FUNCTION_KEYS.map((k) => [k, `${base}/${k}`])) as Record<FunctionKey, string>;
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
      if (spec.deadLetterTopic === null) {
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
    const [meta] = await pubsub.subscription(SUBSCRIPTIONS[0]!.name).getMetadata();
    expect(meta.pushConfig?.pushEndpoint).toBe(moved.endpoints[SUBSCRIPTIONS[0]!.consumer]);
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

describe('seeding', () => {
  const firestore = new Firestore({ projectId });
  const customer = (id: string) => firestore.collection(COLLECTIONS.customers).doc(id);
  const product = (id: string) => firestore.collection(COLLECTIONS.products).doc(id);
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

    expect(summary).toEqual({ customers: ['c-1', '__odd__'], products: ['sku-1'] });
    expect((await customer('c-1').get()).data()).toEqual({
      customerId: 'c-1',
      creditLimitCents: 1000,
      creditUsedCents: 0,
    });
    expect((await customer('~__odd__').get()).data()).toMatchObject({ customerId: '__odd__' });
    expect((await product('sku-1').get()).data()).toEqual({ sku: 'sku-1', available: 3 });
  });

  test('seeds more than one batch (500 writes)', async () => {
    const many = {
      customers: [],
      products: Array.from({ length: 620 }, (_, i) => ({ sku: `bulk-${i}`, available: i })),
    };
    await seedData(firestore, many);
    const bulk = firestore
      .collection(COLLECTIONS.products)
      .where('sku', '>=', 'bulk-')
      .where('sku', '<', 'bulk.');
    const snap = await bulk.get();
    expect(snap.size).toBe(620);
    expect((await product('bulk-619').get()).data()).toEqual({ sku: 'bulk-619', available: 619 });
  });

  test('the demo seed file is valid and seedFromFile upserts it', async () => {
    const demo = path.join(__dirname, '..', '..', 'emulator', 'seed.json');
    expect(loadSeedFile(demo).customers.map((c) => c.customerId)).toEqual(['c-1', 'c-2', 'c-poor']);
    await seedFromFile(demo, firestore);
    expect((await product('sku-3').get()).data()).toEqual({ sku: 'sku-3', available: 0 });
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
