/**
 * The api's request validation against the contract's limits (§3), the Idempotency-Key schema, the canonical JSON
 * used to hash bodies, the public payment status, and Firestore document ids.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { canonicalJson } from '../../shared/runtime/canonical-json';
import { idempotencyKeySchema, zodDetails } from '../../shared/runtime/api/http';
import { placeOrderSchema } from '../../shared/sagas/order-placement/api';
import { publicPaymentStatus, type PaymentDoc, type PaymentState } from '../../shared/participants/payment';
import { ID_PATTERN } from '../../shared/runtime/messages';
import { docId } from '../../shared/runtime/store/collections';
import { expectAny, expectStringContaining } from '../support/matchers';

type Body = Record<string, unknown>;
const item = (sku: string, extra: Record<string, unknown> = {}) => ({
  sku,
  quantity: 2,
  unitPriceCents: 1250,
  ...extra,
});
const valid = (patch: Body = {}): Body => ({
  customerId: 'c-1',
  items: [item('sku-1')],
  paymentToken: 'tok_visa',
  ...patch,
});
const withItem = (patch: Record<string, unknown>): Body => valid({ items: [item('sku-1', patch)] });
const items = (n: number) => Array.from({ length: n }, (_, i) => item(`sku-${i}`));

/** The details the api returns for a body (empty when valid). */
function details(body: unknown): { path: string; message: string }[] {
  const r = placeOrderSchema.safeParse(body);
  return r.success ? [] : zodDetails(r.error);
}

describe('placeOrderSchema: valid bodies', () => {
  it.each<[string, Body]>([
    ['the contract example', valid()],
    ['ids of 1 character', valid({ customerId: 'c', items: [item('s')] })],
    ['ids of 64 characters of the whole alphabet', valid({ customerId: `${'aZ09_-'.repeat(10)}abcd` })],
    ['quantity 1', withItem({ quantity: 1 })],
    ['quantity 1000', withItem({ quantity: 1000 })],
    ['unitPriceCents 0', withItem({ unitPriceCents: 0 })],
    ['unitPriceCents 10,000,000', withItem({ unitPriceCents: 10_000_000 })],
    ['50 items', valid({ items: items(50) })],
    ['paymentToken of 1 character', valid({ paymentToken: 't' })],
    ['paymentToken of 64 characters, any characters', valid({ paymentToken: 'é !/'.repeat(16) })],
    ['quantity written as 2.0', withItem({ quantity: 2.0 })],
  ])('%s', (_name, body) => {
    expect(details(body)).toEqual([]);
    expect(placeOrderSchema.parse(body)).toEqual(body);
  });
});

describe('placeOrderSchema: each limit beyond its boundary, with the details path', () => {
  it.each<[string, string, unknown]>([
    ['customerId empty', 'customerId', valid({ customerId: '' })],
    ['customerId of 65 characters', 'customerId', valid({ customerId: 'c'.repeat(65) })],
    ['customerId with a dot', 'customerId', valid({ customerId: 'c.1' })],
    ['customerId with a slash', 'customerId', valid({ customerId: 'c/1' })],
    ['customerId with a space', 'customerId', valid({ customerId: 'c 1' })],
    ['customerId non-ASCII', 'customerId', valid({ customerId: 'cé' })],
    ['customerId with a trailing newline', 'customerId', valid({ customerId: 'c-1\n' })],
    ['customerId a number', 'customerId', valid({ customerId: 1 })],
    ['customerId missing', 'customerId', valid({ customerId: undefined })],
    ['sku empty', 'items.0.sku', withItem({ sku: '' })],
    ['sku of 65 characters', 'items.0.sku', withItem({ sku: 's'.repeat(65) })],
    ['sku with a colon', 'items.0.sku', withItem({ sku: 'a:b' })],
    ['quantity 0', 'items.0.quantity', withItem({ quantity: 0 })],
    ['quantity 1001', 'items.0.quantity', withItem({ quantity: 1001 })],
    ['quantity 1.5', 'items.0.quantity', withItem({ quantity: 1.5 })],
    ['quantity -1', 'items.0.quantity', withItem({ quantity: -1 })],
    ['quantity a string', 'items.0.quantity', withItem({ quantity: '2' })],
    ['unitPriceCents -1', 'items.0.unitPriceCents', withItem({ unitPriceCents: -1 })],
    ['unitPriceCents 10,000,001', 'items.0.unitPriceCents', withItem({ unitPriceCents: 10_000_001 })],
    ['unitPriceCents 0.5', 'items.0.unitPriceCents', withItem({ unitPriceCents: 0.5 })],
    ['unitPriceCents missing', 'items.0.unitPriceCents', valid({ items: [{ sku: 'a', quantity: 1 }] })],
    ['0 items', 'items', valid({ items: [] })],
    ['51 items', 'items', valid({ items: items(51) })],
    ['items not an array', 'items', valid({ items: { sku: 'a' } })],
    ['an item not an object', 'items.0', valid({ items: ['sku-1'] })],
    ['paymentToken empty', 'paymentToken', valid({ paymentToken: '' })],
    ['paymentToken of 65 characters', 'paymentToken', valid({ paymentToken: 't'.repeat(65) })],
    ['paymentToken missing', 'paymentToken', valid({ paymentToken: undefined })],
    ['an unknown field in an item', 'items.0', withItem({ color: 'red' })],
    [
      'the third item invalid',
      'items.2.quantity',
      valid({ items: [...items(2), item('x', { quantity: 0 })] }),
    ],
  ])('%s → %s', (_name, path, body) => {
    const d = details(body);
    expect(d.length).toBeGreaterThan(0);
    expect(d.map((x) => x.path)).toContain(path);
    for (const x of d) expect(x.message).toEqual(expect.any(String));
  });

  it('an unknown top-level field is rejected; the message names it', () => {
    const d = details(valid({ discount: 10 }));
    expect(d).toEqual([{ path: '(body)', message: expectStringContaining('discount') }]);
  });

  it('a duplicate sku is reported at the second occurrence', () => {
    const d = details(valid({ items: [item('a'), item('b'), item('a')] }));
    expect(d).toEqual([{ path: 'items.2.sku', message: 'duplicate sku a' }]);
  });

  it('skus differing only by case are distinct', () => {
    expect(details(valid({ items: [item('a'), item('A')] }))).toEqual([]);
  });

  it.each([null, [], 'text', 42, true])('a body that is not an object (%j) → (body)', (body) => {
    expect(details(body)).toEqual([{ path: '(body)', message: expectAny(String) }]);
  });

  it('an empty object lists every missing field', () => {
    expect(details({}).map((d) => d.path)).toEqual(['customerId', 'items', 'paymentToken']);
  });

  it('zodDetails caps the list at 20 and honours a prefix', () => {
    const many = valid({ items: Array.from({ length: 30 }, (_, i) => item(`s${i}`, { quantity: 0 })) });
    const r = placeOrderSchema.safeParse(many);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error.issues.length).toBeGreaterThan(20);
    expect(zodDetails(r.error)).toHaveLength(20);
    expect(zodDetails(r.error, 'body')[0]!.path).toBe('body.items.0.quantity');
  });

  it('ids: accepted exactly when they match [A-Za-z0-9_-]{1,64} (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{0,70}$/), fc.string({ maxLength: 70, unit: 'binary' })),
        (id) => {
          const ok = /^[A-Za-z0-9_-]{1,64}$/.test(id);
          expect(details(valid({ customerId: id })).length === 0).toBe(ok);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('idempotencyKeySchema (1–200 printable ASCII)', () => {
  it.each([
    ['one character', 'k'],
    ['200 characters', 'k'.repeat(200)],
    ['a space', ' '],
    [
      'every printable ASCII character',
      Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join(''),
    ],
    ['a UUID', '3f2b8a4e-7c1d-4e2f-9a6b-1c2d3e4f5a6b'],
  ])('accepts %s', (_name, key) => {
    expect(idempotencyKeySchema.safeParse(key).success).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['201 characters', 'k'.repeat(201)],
    ['a tab', 'a\tb'],
    ['a newline', 'ab\n'],
    ['DEL', 'a\x7f'],
    ['non-ASCII', 'clé'],
    ['an emoji', 'key-🔑'],
  ])('rejects %s', (_name, key) => {
    expect(idempotencyKeySchema.safeParse(key).success).toBe(false);
  });
});

describe('canonicalJson', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { customerId: 'c-1', items: [{ sku: 's', quantity: 1, unitPriceCents: 5 }], paymentToken: 't' };
    const b = { paymentToken: 't', items: [{ unitPriceCents: 5, sku: 's', quantity: 1 }], customerId: 'c-1' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe(
      '{"customerId":"c-1","items":[{"quantity":1,"sku":"s","unitPriceCents":5}],"paymentToken":"t"}',
    );
  });

  it('array order matters; values matter', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
  });

  /** Rebuilds a JSON value with every object's keys in a shuffled order. */
  function shuffled(value: unknown, seed: number): unknown {
    if (Array.isArray(value)) return value.map((v, i) => shuffled(v, seed + i));
    if (value && typeof value === 'object') {
      const entries = Object.entries(value);
      const order = entries
        .map((_, i) => i)
        .sort((x, y) => ((x * 7919 + seed) % 13) - ((y * 7919 + seed) % 13));
      return Object.fromEntries(order.map((i) => [entries[i]![0], shuffled(entries[i]![1], seed + i)]));
    }
    return value;
  }

  it('is a faithful, key-order-independent encoding (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        const canonical = canonicalJson(value);
        expect(canonicalJson(shuffled(value, seed))).toBe(canonical);
        // It is valid JSON for the same value.
        expect(JSON.parse(canonical)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('different values give different encodings (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        // Same JSON value (object key order ignored by isDeepStrictEqual) ⇔ same encoding.
        const same = isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
        expect(canonicalJson(a) === canonicalJson(b)).toBe(same);
      }),
      { numRuns: 300 },
    );
  });
});

describe('publicPaymentStatus', () => {
  const doc = (status: PaymentState, before?: PaymentState): PaymentDoc => ({
    orderId: 'o-1',
    amountCents: 100,
    status,
    ...(before ? { before } : {}),
  });

  it.each<[string, string, PaymentDoc | null]>([
    ['no document', 'NONE', null],
    ['CHARGING (in flight)', 'NONE', doc('CHARGING')],
    ['CHARGED', 'CHARGED', doc('CHARGED')],
    ['DECLINED', 'DECLINED', doc('DECLINED')],
    ['REFUNDED', 'REFUNDED', doc('REFUNDED')],
    ['CANCELLED', 'CANCELLED', doc('CANCELLED')],
    ['REFUNDING a charged payment', 'CHARGED', doc('REFUNDING', 'CHARGED')],
    ['REFUNDING a charge in flight', 'NONE', doc('REFUNDING', 'CHARGING')],
    ['REFUNDING without before', 'NONE', doc('REFUNDING')],
  ])('%s → %s', (_name, expected, d) => {
    expect(publicPaymentStatus(d)).toBe(expected);
  });

  it('only ever shows the contract values', () => {
    const all: PaymentState[] = ['CHARGING', 'CHARGED', 'DECLINED', 'REFUNDING', 'REFUNDED', 'CANCELLED'];
    for (const s of all)
      for (const b of [undefined, ...all])
        expect(['NONE', 'CHARGED', 'REFUNDED', 'DECLINED', 'CANCELLED']).toContain(
          publicPaymentStatus(doc(s, b)),
        );
  });
});

describe('docId', () => {
  const validId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  const reservedLike = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/).map((inner) => `__${inner}__`);
  const anyId = fc.oneof(validId, reservedLike);

  it.each([
    ['__x__', '~__x__'],
    ['____', '~____'],
    ['__name__', '~__name__'],
    ['___', '___'],
    ['__x', '__x'],
    ['x__', 'x__'],
    ['_x_', '_x_'],
    ['c-1', 'c-1'],
  ])('%s → %s', (id, expected) => {
    expect(docId(id)).toBe(expected);
  });

  it('never yields a Firestore-reserved id and leaves ordinary ids unchanged (property)', () => {
    fc.assert(
      fc.property(anyId, (id) => {
        expect(ID_PATTERN.test(id)).toBe(true);
        const d = docId(id);
        expect(d).not.toMatch(/^__.*__$/);
        expect(d).not.toContain('/');
        expect(['.', '..']).not.toContain(d);
        if (!/^__.*__$/.test(id)) expect(d).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  it('is injective (property)', () => {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        if (a !== b) expect(docId(a)).not.toBe(docId(b));
      }),
      { numRuns: 500 },
    );
    // The tricky pairs: a reserved id and the valid id it would collide with under a naive escape.
    const ids = ['__x__', '~__x__'.slice(1), 'x__', '__x', '___', '____', '_____', '__-__'];
    expect(new Set(ids.map(docId)).size).toBe(new Set(ids).size);
  });
});
