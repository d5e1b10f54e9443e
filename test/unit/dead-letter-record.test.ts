/** What a dead-letter record keeps of a message: storable text and attributes (pure). */
import { RECORD_LIMITS, storableAttributes, storableText } from '../../shared/runtime/store/dead-letters';

const WELL_FORMED = /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

describe('storableText', () => {
  test.each([
    ['a lone high surrogate', 'a\ud800b', 'a\ufffdb'],
    ['a lone low surrogate', '\udc00', '\ufffd'],
    ['a high surrogate at the end', 'x\udbff', 'x\ufffd'],
    ['a reversed pair', '\udc00\ud800', '\ufffd\ufffd'],
    ['a valid pair (emoji) is kept', 'ok 😀', 'ok 😀'],
    ['escapes in JSON text are plain ASCII', '{"s":"\\ud800"}', '{"s":"\\ud800"}'],
  ])('%s', (_what, input, expected) => {
    expect(storableText(input, 1000)).toBe(expected);
  });

  test('cuts at a character boundary, never inside a surrogate pair or a UTF-8 sequence', () => {
    for (const text of ['😀'.repeat(10), 'é'.repeat(10), 'a😀'.repeat(10)]) {
      for (let max = 0; max <= 45; max += 1) {
        const out = storableText(text, max);
        expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(max);
        expect(out).toMatch(WELL_FORMED);
        expect(text.startsWith(out)).toBe(true);
      }
    }
  });
});

describe('storableAttributes', () => {
  test('is exact when nothing needs changing', () => {
    expect(storableAttributes({ a: 'b', sagaId: 's-1' })).toEqual({
      attributes: { a: 'b', sagaId: 's-1' },
      exact: true,
    });
  });

  test('escapes keys Firestore refuses and bounds sizes, saying it was not exact', () => {
    const r = storableAttributes({
      '': 'e',
      __x__: 'r',
      k: 'v'.repeat(5000),
      ['q'.repeat(1000)]: 'long key',
    });
    expect(r.exact).toBe(false);
    expect(r.attributes['~']).toBe('e');
    expect(r.attributes['~__x__']).toBe('r');
    expect(r.attributes.k).toHaveLength(RECORD_LIMITS.valueBytes);
    expect(r.attributes['q'.repeat(RECORD_LIMITS.keyBytes)]).toBe('long key');
  });

  test('keeps at most Pub/Sub’s 100 attributes', () => {
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, 'v']));
    const r = storableAttributes(many);
    expect(Object.keys(r.attributes)).toHaveLength(RECORD_LIMITS.attributes);
    expect(r.exact).toBe(false);
  });
});
