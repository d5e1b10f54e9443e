/**
 * The benchmark's floor: the same shape of work as an order saga with no business logic, run by the same harness
 * (startStack with this module as the functions source: one functions-framework process per function behind its
 * front door, the same push subscriptions with the same ordering, dead-letter and retry policies, the same emulators).
 *
 * Per saga, exactly like a successful order-placement saga:
 *   api        POST /orders: one transaction (create the saga document) → publish the credit command
 *   credit, inventory (echo participants): one transaction (inbox check + create) → publish the reply
 *   payment (echo): three small transactions, as many as the engine's payment runs for a charge → the reply
 *   orchestrator: one transaction (read the saga, advance it) → publish the next command (none after the last)
 * = 6 Pub/Sub messages (api publish → 3 × (command hop + reply hop)) and 9 small transactions — the engine's
 * counts for a successful saga — with the same ordering keys (customer, smallest sku, saga id), the same publisher
 * and push-envelope parsing. What it leaves out is the engine: validation, the saga state machine, business reads
 * and writes, the outbox records and their "mark sent" writes.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Firestore, type Transaction } from '@google-cloud/firestore';
import type { HttpFunction } from '@google-cloud/functions-framework';
import { pushHandler, type PushHandlerDeps } from '../shared/runtime/http/push-handler';
import { createLogger } from '../shared/runtime/log';
import { emptyMetrics, measure, metricsFields, runTransaction, timed } from '../shared/runtime/metrics';
import type { OutgoingMessage } from '../shared/runtime/messages';
import { pubsubPublisher, type Publisher } from '../shared/runtime/pubsub/publisher';
import type { PushMessage } from '../shared/runtime/push';
import { DeadLetterStore } from '../shared/runtime/store/dead-letters';
import { registry } from '../shared/registry';
import { TOPICS } from '../shared/topology';

export const FLOOR_SAGAS = 'floor-sagas';
export const FLOOR_INBOX = 'floor-inbox';

const STEPS = [
  { name: 'credit', topic: TOPICS.creditCommands, key: (d: FloorData) => `customer:${d.customerId}` },
  { name: 'inventory', topic: TOPICS.inventoryCommands, key: (d: FloorData) => `sku:${d.sku}` },
  { name: 'payment', topic: TOPICS.paymentCommands, key: () => undefined },
] as const;

interface FloorData {
  customerId: string;
  sku: string;
}

interface FloorMessage extends FloorData {
  sagaId: string;
  step: number;
  kind: 'command' | 'reply';
}

interface FloorSaga extends FloorData {
  step: number;
  done: boolean;
  createdAt: number;
  history: { at: string; type: string }[];
}

interface Deps extends PushHandlerDeps {
  db: Firestore;
  publisher: Publisher;
}

let deps: Deps | undefined;
function ctx(): Deps {
  if (!deps) {
    const projectId = process.env.GOOGLE_CLOUD_PROJECT ?? 'demo-saga';
    const db = new Firestore({ projectId, ignoreUndefinedProperties: true });
    deps = {
      db,
      publisher: pubsubPublisher(projectId),
      deadLetters: new DeadLetterStore(db),
      log: createLogger({ component: process.env.FUNCTION_TARGET ?? 'floor' }),
    };
  }
  return deps;
}

function message(topic: string, m: FloorMessage, orderingKey: string | undefined): OutgoingMessage {
  const id = `${m.sagaId}:${m.step}:${m.kind}`;
  return {
    topic,
    id,
    data: { ...m },
    attributes: { sagaId: m.sagaId, messageId: id },
    ...(orderingKey ? { orderingKey } : {}),
  };
}

function command(sagaId: string, step: number, d: FloorData): OutgoingMessage {
  const s = STEPS[step]!;
  return message(s.topic, { sagaId, step, kind: 'command', ...d }, s.key(d));
}

function parse(push: PushMessage): FloorMessage {
  return JSON.parse(push.text) as FloorMessage;
}

async function saga(tx: Transaction, sagaId: string): Promise<FloorSaga | undefined> {
  const snap = await tx.get(ctx().db.collection(FLOOR_SAGAS).doc(sagaId));
  return snap.data() as FloorSaga | undefined;
}

/** POST /orders (starts a floor saga), GET /orders/{id} (its state, in the shape of the real order view). */
export const api: HttpFunction = async (req, res) => {
  const { db, publisher, log } = ctx();
  const get = /^\/orders\/([^/]+)$/.exec(req.path);
  if (req.method === 'GET' && get) {
    const snap = await db.collection(FLOOR_SAGAS).doc(get[1]!).get();
    const s = snap.data() as FloorSaga | undefined;
    if (!s) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'order not found', details: [] } });
      return;
    }
    const status = s.done ? 'SUCCEEDED' : 'STARTED';
    res.status(200).json({
      orderId: get[1],
      status: s.done ? 'APPROVED' : 'PENDING',
      saga: { status, currentStep: null, steps: [], history: s.history },
    });
    return;
  }
  if (req.method === 'POST' && req.path === '/orders') {
    const body = req.body as { customerId: string; items: { sku: string }[] };
    const data: FloorData = { customerId: body.customerId, sku: body.items.map((i) => i.sku).sort()[0]! };
    const sagaId = randomUUID();
    const now = Date.now();
    const metrics = emptyMetrics();
    const t0 = performance.now();
    await measure(metrics, async () => {
      await runTransaction(db, (tx) => {
        const doc: FloorSaga = {
          ...data,
          step: 0,
          done: false,
          createdAt: now,
          history: [{ at: new Date(now).toISOString(), type: 'SAGA_STARTED' }],
        };
        tx.create(db.collection(FLOOR_SAGAS).doc(sagaId), doc);
        return Promise.resolve();
      });
      await timed('publishMs', () => publisher.publish([command(sagaId, 0, data)]));
    });
    res.status(202).json({ orderId: sagaId, status: 'PENDING' });
    log.child({ sagaId, orderId: sagaId }).info('order placed', {
      ...metricsFields(metrics),
      handlerMs: Math.round((performance.now() - t0) * 10) / 10,
    });
    return;
  }
  res.status(200).json({ status: 'ok' });
};

/**
 * An echo participant: `transactions` small transactions (the first is the inbox check + create, the others each
 * create one document), then the reply (ordered by saga id, like the real replies).
 */
function participant(topic: string, transactions: number): HttpFunction {
  return pushHandler(topic, ctx, async (push) => {
    const { db, publisher } = ctx();
    const m = parse(push);
    for (let i = 0; i < transactions; i += 1) {
      const doc = db.collection(FLOOR_INBOX).doc(`${topic}:${m.sagaId}:${m.step}:${i}`);
      const fresh = await runTransaction(db, async (tx) => {
        if ((await tx.get(doc)).exists) return false;
        tx.create(doc, { at: Date.now() });
        return true;
      });
      if (!fresh) return; // a duplicate
    }
    const reply = message(TOPICS.sagaReplies, { ...m, kind: 'reply' }, m.sagaId);
    await timed('publishMs', () => publisher.publish([reply]));
  });
}

/**
 * Transactions per payment command. The engine's payment runs three for a successful charge (charge in flight,
 * the simulated gateway's ledger, the result with the reply); FLOOR_PAYMENT_TRANSACTIONS=1 gives the stricter
 * "one transaction per hop" floor.
 */
const paymentTransactions = Number(process.env.FLOOR_PAYMENT_TRANSACTIONS ?? 3);

export const credit = participant(TOPICS.creditCommands, 1);
export const inventory = participant(TOPICS.inventoryCommands, 1);
export const payment = participant(TOPICS.paymentCommands, paymentTransactions);

// Every other participant of the registry gets an echo function too: the harness starts one process per function
// of the topology, and the floor's saga (shaped like order-placement) never sends them anything.
for (const p of registry.participants()) {
  if (!(p.name in module.exports)) {
    (module.exports as Record<string, unknown>)[p.name] = participant(p.commandTopic, 1);
  }
}

/** The echo orchestrator: advances the saga document one step in one transaction, then the next command. */
export const orchestrator = pushHandler(TOPICS.sagaReplies, ctx, async (push) => {
  const { db, publisher } = ctx();
  const m = parse(push);
  const next = await runTransaction(db, async (tx) => {
    const s = await saga(tx, m.sagaId);
    if (!s || s.done || s.step !== m.step) return null; // duplicate
    const step = m.step + 1;
    const done = step === STEPS.length;
    const history = done
      ? [...s.history, { at: new Date().toISOString(), type: 'SAGA_SUCCEEDED' }]
      : s.history;
    tx.update(db.collection(FLOOR_SAGAS).doc(m.sagaId), { step, done, history });
    return done ? null : command(m.sagaId, step, { customerId: s.customerId, sku: s.sku });
  });
  if (next) await timed('publishMs', () => publisher.publish([next]));
});

/** The sweeper and the dead-letters recorder have nothing to do in the floor: ticks are acknowledged. */
const ack: HttpFunction = (_req, res) => void res.status(204).end();
export const sweeper = ack;
export const deadLetters = ack;
// The harness starts the console too; the floor has nothing for it to show.
export { ack as console };
