/**
 * Operating dead letters on the emulators: redrive keeps a command's ordering key, and `redrive --all` / `dlq list`
 * page through every record (not only the newest page).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Timestamp } from '@google-cloud/firestore';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { redrive } from '../../cli/redrive';
import { placeOrder } from '../support/place';
import { recordDeadLetter } from '../../shared/runtime/dead-letters';
import { parsePushEnvelope } from '../../shared/runtime/push';
import { COLLECTIONS } from '../../shared/runtime/store/collections';
import { DeadLetterStore, type DeadLetter } from '../../shared/runtime/store/dead-letters';
import type { SagaDoc } from '../../shared/runtime/store/sagas';
import { commandMessage } from '../../shared/runtime/saga/binding';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import { TOPICS } from '../../shared/topology';
import { order } from '../support/commands';
import { integrationEnv, sleep, type IntegrationEnv } from '../support/integration';
import { envelope } from '../support/push';

let env: IntegrationEnv;
const subs: Subscription[] = [];

beforeAll(async () => {
  env = await integrationEnv('it-dlq-ops');
});
afterAll(async () => {
  await Promise.all(subs.map((s) => s.close()));
  await env.close();
});

/** Every message arriving on `topic` from now on, as Pub/Sub hands it to a subscriber. */
async function listen(topic: string): Promise<Message[]> {
  const [sub] = await env.pubsub
    .topic(topic)
    .createSubscription(`ops-${randomBytes(4).toString('hex')}`, { enableMessageOrdering: true });
  subs.push(sub);
  const got: Message[] = [];
  sub.on('message', (m: Message) => {
    got.push(m);
    m.ack();
  });
  return got;
}

async function until<T>(fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

describe('redrive keeps the ordering key', () => {
  const o = order({ customerId: 'hot-customer', totalCents: 100 });
  const KEY = 'customer:hot-customer';
  const cmd = commandMessage(orderPlacement, o.orderId, o, { step: 'credit', action: 'forward', attempt: 1 });

  test.each([
    ['the emulator (the push body has no orderingKey; the attribute has it)', false],
    ['production (the push body carries orderingKey)', true],
  ])('of a dead-lettered command, as delivered by %s', async (_what, inBody) => {
    expect(cmd.orderingKey).toBe(KEY);
    const body = envelope(JSON.stringify(cmd.data), {
      ...cmd.attributes,
      CloudPubSubDeadLetterSourceSubscription: `projects/${env.projectId}/subscriptions/credit-commands--credit`,
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
    });
    // Delivered by the credit-commands dead-letter subscription: that, not the attribute, names the source topic.
    body.subscription = `projects/${env.projectId}/subscriptions/credit-commands-dlq--dead-letters`;
    if (inBody) {
      const message = body.message as Record<string, unknown>;
      message.orderingKey = cmd.orderingKey;
      // Not relying on the attribute: production delivers the key in the body.
      delete (message.attributes as Record<string, string>).orderingKey;
    }
    const id = await recordDeadLetter(env.ctx.deadLetters, env.ctx.topology, parsePushEnvelope(body));
    expect(await env.ctx.deadLetters.get(id)).toMatchObject({
      sourceTopic: TOPICS.creditCommands,
      orderingKey: KEY,
    });

    const arrived = await listen(TOPICS.creditCommands);
    expect(await redrive(env.ctx.deadLetters, env.pubsub, { id, force: false })).toEqual([
      { id, result: 'redriven', detail: TOPICS.creditCommands },
    ]);
    const m = await until(() => arrived.find((x) => x.attributes.redrivenFrom === id));
    expect(m.orderingKey).toBe(KEY);
    expect(JSON.parse(m.data.toString('utf8'))).toEqual(cmd.data);
    expect(m.attributes).toMatchObject({ messageId: cmd.id, orderingKey: KEY });
    expect(Object.keys(m.attributes).filter((k) => k.startsWith('CloudPubSubDeadLetter'))).toEqual([]);
  });
});

/** Records `n` dead letters on `topic`, recorded at `at(i)` (ms), concurrently; returns their ids in order. */
async function recordMany(n: number, at: (i: number) => number, topic: string = TOPICS.creditCommands) {
  const tag = randomBytes(3).toString('hex');
  const ids: string[] = [];
  for (let start = 0; start < n; start += 100) {
    const chunk = Array.from({ length: Math.min(100, n - start) }, (_, j) => start + j);
    ids.push(
      ...(await Promise.all(
        chunk.map((i) =>
          new DeadLetterStore(env.db, () => at(i)).record({
            sourceTopic: topic,
            subscription: null,
            data: JSON.stringify({ probe: `${tag}-${i}` }),
            attributes: { probe: `${tag}-${i}` },
            deliveryCount: 5,
            reason: 'MAX_DELIVERY_ATTEMPTS',
            detail: 'storm',
            dedupeKey: `${tag}-${i}`,
          }),
        ),
      )),
    );
  }
  return ids;
}

/**
 * A storm: `n` dead letters one second apart from `t0`, written in batches — copies of one record the store wrote
 * (recording each through the store, one create per record, is too slow for a test).
 */
async function storm(n: number, t0: number): Promise<string[]> {
  const [first] = await recordMany(1, () => t0);
  const template = (await env.db.collection(COLLECTIONS.deadLetters).doc(first!).get()).data()!;
  const ids = [first!];
  for (let start = 1; start < n; start += 400) {
    const batch = env.db.batch();
    for (let i = start; i < Math.min(n, start + 400); i += 1) {
      const id = `storm${String(i).padStart(27, '0')}`;
      const at = t0 + i * 1000;
      batch.create(env.db.collection(COLLECTIONS.deadLetters).doc(id), {
        ...template,
        id,
        recordedAt: new Date(at).toISOString(),
        recordedAtMs: Timestamp.fromMillis(at),
      });
      ids.push(id);
    }
    await batch.commit();
  }
  return ids;
}

async function markRedriven(ids: string[]): Promise<void> {
  for (let start = 0; start < ids.length; start += 400) {
    const batch = env.db.batch();
    for (const id of ids.slice(start, start + 400)) {
      batch.update(env.db.collection(COLLECTIONS.deadLetters).doc(id), {
        redrivenAt: '2026-01-01T00:00:00.000Z',
        redriveCount: 1,
      });
    }
    await batch.commit();
  }
}

async function notRedriven(ids: string[]): Promise<string[]> {
  const all = (await env.db.collection(COLLECTIONS.deadLetters).get()).docs.map(
    (d) => d.data() as DeadLetter,
  );
  const wanted = new Set(ids);
  return all.filter((d) => wanted.has(d.id) && d.redrivenAt === null).map((d) => d.id);
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli', 'saga.js'), ...args], {
    env: { ...process.env, GOOGLE_CLOUD_PROJECT: env.projectId },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

describe('dlq redrive --all redrives every record not redriven yet', () => {
  test('after a storm of more than 1000 dead letters, the oldest ones too (the newest 1000 already redriven)', async () => {
    const ids = await storm(1005, T0);
    await markRedriven(ids.slice(5)); // the newest 1000
    const oldest = ids.slice(0, 5);
    const results = await redrive(env.ctx.deadLetters, env.pubsub, { all: true });
    expect(results.filter((r) => ids.includes(r.id))).toEqual(
      oldest.map((id) => ({ id, result: 'redriven', detail: TOPICS.creditCommands })),
    );
    expect(await notRedriven(ids)).toEqual([]);
    // Nothing of the storm left (records of other tests in this project that cannot be redriven stay listed).
    const again = await redrive(env.ctx.deadLetters, env.pubsub, { all: true });
    expect(again.filter((r) => ids.includes(r.id))).toEqual([]);
  });

  test('page after page (page size 10, 25 records, ties in recordedAt), oldest first, past records it cannot redrive', async () => {
    const base = T0 + 10_000_000;
    // Three records share each timestamp: the cursor must neither skip nor repeat records with equal times.
    const ids = await recordMany(24, (i) => base + Math.floor(i / 3) * 1000);
    const [unknown] = await recordMany(1, () => base + 3500, 'no-such-topic');
    const arrived = await listen(TOPICS.creditCommands);
    const mine = new Set([...ids, unknown!]);
    const results = (await redrive(env.ctx.deadLetters, env.pubsub, { all: true }, { pageSize: 10 })).filter(
      (r) => mine.has(r.id),
    );
    expect(results).toHaveLength(25);
    expect(results.find((r) => r.id === unknown)).toEqual({
      id: unknown,
      result: 'unknown-topic',
      detail: 'no-such-topic',
    });
    const redriven = results.filter((r) => r.result === 'redriven').map((r) => r.id);
    expect(new Set(redriven)).toEqual(new Set(ids));
    expect(await notRedriven([...ids, unknown!])).toEqual([unknown]);
    // Oldest first: each record's timestamp is at least the previous one's.
    const times = await Promise.all(
      redriven.map(async (id) => (await env.ctx.deadLetters.get(id))!.recordedAt),
    );
    expect([...times].sort()).toEqual(times);
    await until(() =>
      arrived.filter((m) => ids.includes(m.attributes.redrivenFrom!)).length >= 24 ? true : undefined,
    );
  });

  test('only what was recorded before the run started (a message dead-lettered again meanwhile waits for the next run)', async () => {
    const base = T0 + 20_000_000;
    const ids = await recordMany(3, (i) => base + i * 1000);
    const results = await redrive(env.ctx.deadLetters, env.pubsub, { all: true }, { now: () => base + 1500 });
    expect(results.map((r) => r.id).filter((id) => ids.includes(id))).toEqual(ids.slice(0, 2));
    expect(await notRedriven(ids)).toEqual([ids[2]]);
    await redrive(env.ctx.deadLetters, env.pubsub, { all: true });
    expect(await notRedriven(ids)).toEqual([]);
  });
});

describe('list pages (--limit N --after <cursor>)', () => {
  test('DeadLetterStore.list pages through every record, newest first, each exactly once', async () => {
    const total = (await env.db.collection(COLLECTIONS.deadLetters).count().get()).data().count;
    expect(total).toBeGreaterThan(1000);
    const seen: string[] = [];
    const times: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await env.ctx.deadLetters.list(250, after);
      seen.push(...page.items.map((i) => i.value.id));
      times.push(...page.items.map((i) => i.value.recordedAt));
      after = page.next;
      pages += 1;
    } while (after !== null);
    expect(pages).toBe(Math.ceil(total / 250));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect([...times].sort().reverse()).toEqual(times);
  });

  test('dlq list: the next page after the cursor it prints, in text and --json', async () => {
    const first = cli('dlq', 'list', '--limit', '10', '--json');
    expect(first.status).toBe(0);
    const page1 = JSON.parse(first.stdout) as { id: string; cursor: string; recordedAt: string }[];
    expect(page1).toHaveLength(10);
    // stdout stays one JSON document; the hint for the next page goes to stderr.
    expect(first.stderr).toBe(`next page: --after ${page1[9]!.cursor}\n`);

    const text = cli('dlq', 'list', '--limit', '10', '--after', page1[9]!.cursor);
    expect(text.status).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^id\s+source topic\s+sagaId\s+reason\s+deliveries\s+recorded at\s+redriven at$/,
    );
    const textIds = lines.slice(2, 12).map((l) => l.split(/\s+/)[0]);
    expect(lines[12]).toMatch(/^next page: --after \S+$/);

    const second = cli('dlq', 'list', '--limit', '10', '--after', page1[9]!.cursor, '--json');
    const page2 = JSON.parse(second.stdout) as { id: string; cursor: string; recordedAt: string }[];
    expect(page2.map((d) => d.id)).toEqual(textIds);
    expect(lines[12]).toBe(`next page: --after ${page2[9]!.cursor}`);
    expect(page2.some((d) => page1.some((p) => p.id === d.id))).toBe(false);
    expect(page2[0]!.recordedAt <= page1[9]!.recordedAt).toBe(true);
    // The same two pages as one page of 20.
    const both = await env.ctx.deadLetters.list(20);
    expect(both.items.map((d) => d.value.id)).toEqual([...page1, ...page2].map((d) => d.id));
  });

  test('list (sagas): pages with --after, ties in createdAt included; a bad cursor is a usage error', async () => {
    const placed = await placeOrder(
      env.ctx,
      {
        customerId: 'c-1',
        items: [{ sku: 'sku-1', quantity: 1, unitPriceCents: 5 }],
        paymentToken: 'tok_visa',
      },
      null,
    );
    const doc = (await env.ctx.sagas.get(placed.orderId))!;
    // 11 more sagas, every one created in the same millisecond as the first.
    const batch = env.db.batch();
    const copies = Array.from(
      { length: 11 },
      (_, i) => `copy-${String(i).padStart(2, '0')}-${placed.orderId}`,
    );
    for (const id of copies) {
      const copy: SagaDoc = { ...doc, sagaId: id, data: { ...doc.data, orderId: id } };
      batch.set(env.db.collection(COLLECTIONS.sagas).doc(id), copy);
    }
    await batch.commit();
    const all = [placed.orderId, ...copies];

    const seen: string[] = [];
    let after: string[] = [];
    for (let page = 0; page < 3; page += 1) {
      const r = cli('list', '--limit', '5', '--json', ...after);
      expect(r.status).toBe(0);
      const rows = JSON.parse(r.stdout) as { sagaId: string; type: string; cursor: string }[];
      expect(new Set(rows.map((x) => x.type))).toEqual(new Set(['order-placement']));
      seen.push(...rows.map((x) => x.sagaId));
      if (page < 2) {
        expect(rows).toHaveLength(5);
        expect(r.stderr).toBe(`next page: --after ${rows[4]!.cursor}\n`);
        after = ['--after', rows[4]!.cursor];
      } else {
        expect(rows).toHaveLength(2);
        expect(r.stderr).toBe('');
      }
    }
    expect([...seen].sort()).toEqual([...all].sort());

    const text = cli('list', '--limit', '5');
    expect(text.stdout).toMatch(/^sagaId\s+type\s+created\s+status\s+saga\s+awaiting\s+reason\n/);
    expect(text.stdout).toMatch(/\nnext page: --after \S+\n$/);

    const bad = cli('dlq', 'list', '--after', after[1]!); // a saga list's cursor
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not a cursor of this list/);
  });
});
