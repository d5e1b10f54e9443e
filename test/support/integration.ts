/**
 * In-process integration context against the real emulators: a unique project per test file (the emulators
 * namespace by project), the real Firestore and Pub/Sub clients, every topic created, and pull "tap"
 * subscriptions to observe what the code published.
 */
import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { parseConfig } from '../../shared/runtime/config';
import { GRPC, grpcCode } from '../../shared/runtime/errors';
import { PubSubPublisher } from '../../shared/runtime/pubsub/publisher';
import { CREDIT_COLLECTIONS } from '../../shared/participants/credit';
import { INVENTORY_COLLECTIONS } from '../../shared/participants/inventory';
import { docId } from '../../shared/runtime/store/collections';
import { ALL_TOPICS } from '../../shared/topology';
import { uniqueProjectId } from './env';
import { buildContext, type Context, type ContextOverrides } from '../../functions/context';

export interface IntegrationEnv {
  projectId: string;
  ctx: Context;
  db: Firestore;
  pubsub: PubSub;
  /** Creates a pull subscription on a topic; returns a function draining what arrived so far. */
  tap(topic: string): Promise<Tap>;
  seed(
    customers: { customerId: string; creditLimitCents: number }[],
    products: { sku: string; available: number }[],
  ): Promise<void>;
  creditUsed(customerId: string): Promise<number>;
  stock(sku: string): Promise<number>;
  close(): Promise<void>;
}

export interface Tap {
  /** Waits until at least `n` messages arrived (or timeout) and returns all received so far, parsed. */
  take(n: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** Waits until `done` holds for everything received so far (or timeout) and returns it. */
  until(
    done: (received: Record<string, unknown>[]) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>[]>;
  received(): Record<string, unknown>[];
}

export async function integrationEnv(
  prefix: string,
  env: Record<string, string> = {},
  overrides: ContextOverrides = {},
): Promise<IntegrationEnv> {
  const projectId = uniqueProjectId(prefix);
  const cfg = parseConfig({
    ...process.env,
    GOOGLE_CLOUD_PROJECT: projectId,
    SAGA_LOG_LEVEL: 'ERROR',
    ...env,
  });
  const db = new Firestore({ projectId, ignoreUndefinedProperties: true });
  const pubsub = new PubSub({ projectId });
  await Promise.all(ALL_TOPICS.map((t) => pubsub.createTopic(t).catch(ignoreExists)));
  const publisher = new PubSubPublisher(new PubSub({ projectId }));
  const ctx = buildContext(cfg, db, publisher, { faultsMode: 'throw', ...overrides });
  const subs: Subscription[] = [];

  return {
    projectId,
    ctx,
    db,
    pubsub,
    async tap(topic) {
      const [sub] = await pubsub.topic(topic).createSubscription(`tap-${randomBytes(4).toString('hex')}`);
      subs.push(sub);
      const got: Record<string, unknown>[] = [];
      sub.on('message', (m: Message) => {
        got.push(JSON.parse(m.data.toString('utf8')) as Record<string, unknown>);
        m.ack();
      });
      const until: Tap['until'] = async (done, timeoutMs = 15_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!done([...got]) && Date.now() < deadline) await sleep(25);
        return [...got];
      };
      return {
        received: () => [...got],
        take: (n, timeoutMs) => until((r) => r.length >= n, timeoutMs),
        until,
      };
    },
    async seed(customers, products) {
      const batch = db.batch();
      for (const c of customers) {
        batch.set(db.collection(CREDIT_COLLECTIONS.customers).doc(docId(c.customerId)), {
          ...c,
          creditUsedCents: 0,
        });
      }
      for (const p of products) batch.set(db.collection(INVENTORY_COLLECTIONS.products).doc(docId(p.sku)), p);
      await batch.commit();
    },
    async creditUsed(customerId) {
      const snap = await db.collection(CREDIT_COLLECTIONS.customers).doc(docId(customerId)).get();
      return Number(snap.get('creditUsedCents'));
    },
    async stock(sku) {
      const snap = await db.collection(INVENTORY_COLLECTIONS.products).doc(docId(sku)).get();
      return Number(snap.get('available'));
    },
    async close() {
      await Promise.all(subs.map((s) => s.close()));
      await publisher.close();
      await pubsub.close();
      await db.terminate();
    },
  };
}

function ignoreExists(err: unknown): void {
  if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
