/** The pure rules of the reservation participant kind: every path, its outcome and its writes. */
import {
  decideRelease,
  decideReserve,
  mergeWants,
  type Decision,
  type Hold,
  type ReservationReasons,
  type StoredReservation,
} from '../../shared/runtime/participants/reservation';

const reasons: ReservationReasons = { unknown: 'UNKNOWN_THING', insufficient: 'NOT_ENOUGH' };
const key = 'saga-1';

const reserve = (
  wants: Hold[],
  available: [string, number][],
  record: StoredReservation | null = null,
): Decision => decideReserve({ key, wants, record, available: new Map(available), reasons });

const reserved: StoredReservation = {
  key,
  status: 'RESERVED',
  holds: [
    { resourceId: 'a', units: 2 },
    { resourceId: 'b', units: 1 },
  ],
};
const rejected: StoredReservation = {
  key,
  status: 'REJECTED',
  reason: 'NOT_ENOUGH',
  holds: [{ resourceId: 'a', units: 9 }],
};
const released: StoredReservation = { ...reserved, status: 'RELEASED' };
const tombstone: StoredReservation = { key, status: 'RELEASED', holds: [], tombstone: true };

describe('a fresh reserve', () => {
  test.each<[string, Hold[], [string, number][], Decision]>([
    [
      'takes what it wants when there is enough',
      [{ resourceId: 'a', units: 3 }],
      [['a', 3]],
      {
        outcome: { outcome: 'SUCCEEDED' },
        writes: [
          { op: 'take', resourceId: 'a', units: 3 },
          { op: 'createRecord', record: { key, status: 'RESERVED', holds: [{ resourceId: 'a', units: 3 }] } },
        ],
      },
    ],
    [
      'fails UNKNOWN for a resource that does not exist',
      [{ resourceId: 'nope', units: 1 }],
      [['a', 5]],
      {
        outcome: { outcome: 'FAILED', reason: 'UNKNOWN_THING' },
        writes: [
          {
            op: 'createRecord',
            record: {
              key,
              status: 'REJECTED',
              reason: 'UNKNOWN_THING',
              holds: [{ resourceId: 'nope', units: 1 }],
            },
          },
        ],
      },
    ],
    [
      'fails INSUFFICIENT for one unit more than available',
      [{ resourceId: 'a', units: 4 }],
      [['a', 3]],
      {
        outcome: { outcome: 'FAILED', reason: 'NOT_ENOUGH' },
        writes: [
          {
            op: 'createRecord',
            record: { key, status: 'REJECTED', reason: 'NOT_ENOUGH', holds: [{ resourceId: 'a', units: 4 }] },
          },
        ],
      },
    ],
    [
      'fails INSUFFICIENT when the availability is not a number',
      [{ resourceId: 'a', units: 1 }],
      [['a', NaN]],
      {
        outcome: { outcome: 'FAILED', reason: 'NOT_ENOUGH' },
        writes: [
          {
            op: 'createRecord',
            record: { key, status: 'REJECTED', reason: 'NOT_ENOUGH', holds: [{ resourceId: 'a', units: 1 }] },
          },
        ],
      },
    ],
    [
      'of zero units succeeds without touching the resource (which must still exist)',
      [{ resourceId: 'a', units: 0 }],
      [['a', 0]],
      {
        outcome: { outcome: 'SUCCEEDED' },
        writes: [
          { op: 'createRecord', record: { key, status: 'RESERVED', holds: [{ resourceId: 'a', units: 0 }] } },
        ],
      },
    ],
  ])('%s', (_name, wants, available, expected) => {
    expect(reserve(wants, available)).toEqual(expected);
  });
});

describe('a reserve of several resources is all or nothing', () => {
  const wants: Hold[] = [
    { resourceId: 'a', units: 2 },
    { resourceId: 'b', units: 1 },
  ];

  test('all available: takes every one', () => {
    expect(
      reserve(wants, [
        ['a', 2],
        ['b', 5],
      ]),
    ).toEqual({
      outcome: { outcome: 'SUCCEEDED' },
      writes: [
        { op: 'take', resourceId: 'a', units: 2 },
        { op: 'take', resourceId: 'b', units: 1 },
        { op: 'createRecord', record: { key, status: 'RESERVED', holds: wants } },
      ],
    });
  });

  test.each<[string, [string, number][], string]>([
    [
      'one short',
      [
        ['a', 2],
        ['b', 0],
      ],
      'NOT_ENOUGH',
    ],
    ['one unknown', [['a', 2]], 'UNKNOWN_THING'],
    // Unknown is reported before insufficient, whatever the order of the wants.
    ['one unknown and one short', [['a', 1]], 'UNKNOWN_THING'],
  ])('%s: takes none', (_name, available, reason) => {
    const d = reserve(wants, available);
    expect(d.outcome).toEqual({ outcome: 'FAILED', reason });
    expect(d.writes).toEqual([
      { op: 'createRecord', record: { key, status: 'REJECTED', reason, holds: wants } },
    ]);
  });

  test('a resource wanted twice is one hold of the sum', () => {
    const twice: Hold[] = [
      { resourceId: 'a', units: 2 },
      { resourceId: 'b', units: 1 },
      { resourceId: 'a', units: 2 },
    ];
    expect(
      reserve(twice, [
        ['a', 3],
        ['b', 1],
      ]).outcome,
    ).toEqual({ outcome: 'FAILED', reason: 'NOT_ENOUGH' });
    expect(
      reserve(twice, [
        ['a', 4],
        ['b', 1],
      ]).writes,
    ).toEqual([
      { op: 'take', resourceId: 'a', units: 4 },
      { op: 'take', resourceId: 'b', units: 1 },
      {
        op: 'createRecord',
        record: {
          key,
          status: 'RESERVED',
          holds: [
            { resourceId: 'a', units: 4 },
            { resourceId: 'b', units: 1 },
          ],
        },
      },
    ]);
  });

  test.each([-1, 1.5, NaN])('units %p are refused as a programming error', (units) => {
    expect(() => mergeWants([{ resourceId: 'a', units }])).toThrow(/non-negative integer/);
  });
});

describe('a repeated reserve answers from the record and writes nothing', () => {
  test.each<[string, StoredReservation, Decision['outcome']]>([
    ['RESERVED', reserved, { outcome: 'SUCCEEDED' }],
    ['REJECTED', rejected, { outcome: 'FAILED', reason: 'NOT_ENOUGH' }],
    ['RELEASED (after a release)', released, { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' }],
    ['RELEASED (tombstone)', tombstone, { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' }],
  ])('record %s', (_name, record, outcome) => {
    // Plenty available, or nothing at all: the record decides either way.
    for (const available of [[['a', 100]], []] as [string, number][][]) {
      expect(reserve([{ resourceId: 'a', units: 1 }], available, record)).toEqual({ outcome, writes: [] });
    }
  });

  test('a REJECTED record without a reason still fails', () => {
    const { reason: _r, ...noReason } = rejected;
    expect(reserve([], [], noReason).outcome).toEqual({ outcome: 'FAILED', reason: 'REJECTED' });
  });
});

describe('a release', () => {
  test.each<[string, StoredReservation | null, Decision]>([
    [
      'of RESERVED gives back every hold and marks it RELEASED',
      reserved,
      {
        outcome: { outcome: 'SUCCEEDED' },
        writes: [
          { op: 'giveBack', resourceId: 'a', units: 2 },
          { op: 'giveBack', resourceId: 'b', units: 1 },
          { op: 'markReleased' },
        ],
      },
    ],
    [
      'of RESERVED zero units gives nothing back',
      { key, status: 'RESERVED', holds: [{ resourceId: 'a', units: 0 }] },
      { outcome: { outcome: 'SUCCEEDED' }, writes: [{ op: 'markReleased' }] },
    ],
    ['of REJECTED changes nothing', rejected, { outcome: { outcome: 'SUCCEEDED' }, writes: [] }],
    ['of RELEASED (twice) changes nothing', released, { outcome: { outcome: 'SUCCEEDED' }, writes: [] }],
    ['of a tombstone changes nothing', tombstone, { outcome: { outcome: 'SUCCEEDED' }, writes: [] }],
    [
      'with no record leaves a RELEASED tombstone',
      null,
      {
        outcome: { outcome: 'SUCCEEDED' },
        writes: [{ op: 'createRecord', record: tombstone }],
      },
    ],
  ])('%s', (_name, record, expected) => {
    expect(decideRelease({ key, record })).toEqual(expected);
  });
});

describe('sequences', () => {
  /** Applies a decision's record writes to a record (what the store would hold next). */
  function next(record: StoredReservation | null, d: Decision): StoredReservation | null {
    let r = record;
    for (const w of d.writes) {
      if (w.op === 'createRecord') r = w.record;
      if (w.op === 'markReleased' && r) r = { ...r, status: 'RELEASED' };
    }
    return r;
  }
  const wants: Hold[] = [{ resourceId: 'a', units: 1 }];
  const available = new Map([['a', 1]]);

  test('release before reserve: the tombstone makes the late reserve REFUSED, nothing taken', () => {
    const afterRelease = next(null, decideRelease({ key, record: null }));
    const late = decideReserve({ key, wants, record: afterRelease, available, reasons });
    expect(late).toEqual({
      outcome: { outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' },
      writes: [],
    });
  });

  test('reserve, release, release, reserve: taken once, given back once, then REFUSED', () => {
    const r1 = decideReserve({ key, wants, record: null, available, reasons });
    const s1 = next(null, r1);
    const rel1 = decideRelease({ key, record: s1 });
    const s2 = next(s1, rel1);
    const rel2 = decideRelease({ key, record: s2 });
    const again = decideReserve({ key, wants, record: next(s2, rel2), available, reasons });
    const ops = [r1, rel1, rel2, again].flatMap((d) => d.writes.map((w) => w.op));
    expect(ops).toEqual(['take', 'createRecord', 'giveBack', 'markReleased']);
    expect(again.outcome).toEqual({ outcome: 'REFUSED', reason: 'COMPENSATED_BEFORE_FORWARD' });
  });
});
