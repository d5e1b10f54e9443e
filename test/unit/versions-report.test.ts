/** `saga versions`: rows per type and definition version from the counts the store reports. Pure (a fake store). */
import { flowOf, versionsReport, versionsText } from '../../cli/versions';
import type { SagaStatus } from '../../shared/runtime/engine/types';
import { registry } from '../../shared/registry';
import { orderPlacement } from '../../shared/sagas/order-placement/definition';
import { tripBookingV1, tripBookingV2 } from '../../shared/sagas/trip-booking/definition';

type Counts = Record<SagaStatus, number>;
const counts = (c: Partial<Counts>): Counts => ({
  STARTED: 0,
  COMPENSATING: 0,
  SUCCEEDED: 0,
  ABORTED: 0,
  FAILED: 0,
  ...c,
});

/** A store holding `byVersion` (type → version → counts) plus `legacy` (type → counts of documents without a version). */
function store(
  byVersion: Record<string, Record<number, Partial<Counts>>>,
  legacy: Record<string, Partial<Counts>> = {},
) {
  const types = [...new Set([...Object.keys(byVersion), ...Object.keys(legacy)])].sort();
  return {
    types: () => Promise.resolve(types),
    definitionVersions: (type: string) =>
      Promise.resolve(
        Object.keys(byVersion[type] ?? {})
          .map(Number)
          .sort((a, b) => a - b),
      ),
    countByStatus: (type: string, version?: number): Promise<Counts> => {
      if (version !== undefined) return Promise.resolve(counts(byVersion[type]?.[version] ?? {}));
      const total = counts(legacy[type] ?? {});
      for (const c of Object.values(byVersion[type] ?? {}))
        for (const [s, n] of Object.entries(c)) total[s as SagaStatus] += n;
      return Promise.resolve(total);
    },
  };
}

describe('saga versions', () => {
  it('shows steps as stages', () => {
    expect(flowOf(tripBookingV1.definition)).toBe('flight → hotel → car → payment');
    expect(flowOf(tripBookingV2.definition)).toBe('flight → hotel ∥ car → payment');
    expect(flowOf(orderPlacement.definition)).toBe('credit → inventory → payment');
  });

  it('every known type and version, with running and finished counts, and the version new sagas start on', async () => {
    const rows = await versionsReport(
      store({
        'trip-booking': {
          1: { STARTED: 1, SUCCEEDED: 2, ABORTED: 1 },
          2: { COMPENSATING: 1, STARTED: 2, FAILED: 1 },
        },
      }),
      registry,
      new Map(),
    );
    expect(rows).toEqual([
      {
        type: 'order-placement',
        version: 1,
        known: true,
        steps: ['credit', 'inventory', 'payment'],
        stages: [['credit'], ['inventory'], ['payment']],
        flow: 'credit → inventory → payment',
        running: 0,
        finished: 0,
        startsNew: true,
      },
      {
        type: 'trip-booking',
        version: 1,
        known: true,
        steps: ['flight', 'hotel', 'car', 'payment'],
        stages: [['flight'], ['hotel'], ['car'], ['payment']],
        flow: 'flight → hotel → car → payment',
        running: 1,
        finished: 3,
        startsNew: false,
      },
      {
        type: 'trip-booking',
        version: 2,
        known: true,
        steps: ['flight', 'hotel', 'car', 'payment'],
        stages: [['flight'], ['hotel', 'car'], ['payment']],
        flow: 'flight → hotel ∥ car → payment',
        running: 3,
        finished: 1,
        startsNew: true,
      },
    ]);
  });

  it('SAGA_START_VERSIONS moves the start; versions and types found in Firestore that the code does not know are shown unknown', async () => {
    const start = new Map([['trip-booking', 1]]);
    const rows = await versionsReport(
      store({ 'trip-booking': { 3: { STARTED: 4 } }, 'old-saga': { 1: { SUCCEEDED: 5 } } }),
      registry,
      start,
    );
    expect(rows.map((r) => [r.type, r.version, r.known, r.running, r.finished, r.startsNew])).toEqual([
      ['old-saga', 1, false, 0, 5, false],
      ['order-placement', 1, true, 0, 0, true],
      ['trip-booking', 1, true, 0, 0, true],
      ['trip-booking', 2, true, 0, 0, false],
      ['trip-booking', 3, false, 4, 0, false],
    ]);
    const text = versionsText(rows, start);
    expect(text).toMatch(/^type\s+version\s+steps\s+running\s+finished\s+new sagas\n/);
    expect(text).toMatch(/trip-booking\s+v1\s+flight → hotel → car → payment\s+0\s+0\s+start here\n/);
    expect(text).toMatch(/trip-booking\s+v3\s+\(unknown to this code\)\s+4\s+0\n/);
    expect(text).toMatch(/except SAGA_START_VERSIONS=trip-booking=1$/);
  });

  it('sagas written before versions were recorded count as version 1', async () => {
    const rows = await versionsReport(
      store(
        { 'order-placement': { 1: { SUCCEEDED: 1 } } },
        { 'order-placement': { SUCCEEDED: 2, STARTED: 1 } },
      ),
      registry,
      new Map(),
    );
    expect(rows.find((r) => r.type === 'order-placement')).toMatchObject({
      version: 1,
      running: 1,
      finished: 3,
    });
  });
});
