/** Admission control (api → 429): the pure decision, and the cached count an api instance keeps. */
import { Admission, decideAdmission, type AdmissionOptions } from '../../shared/runtime/admission';

const OPTS: AdmissionOptions = { maxInFlight: 300, throughputPerS: 10, refreshMs: 1000 };

describe('decideAdmission', () => {
  it.each([
    [0, true, undefined],
    [299, true, undefined],
    [300, false, 1], // one over the bound drains in 0.1 s: at least 1 s
    [309, false, 1],
    [310, false, 2],
    [600, false, 31],
    [100_000, false, 60], // capped: a client re-checks at least every minute
  ])('%i in flight of 300 at 10/s → admitted %s, Retry-After %s', (inFlight, admitted, retryAfterS) => {
    const d = decideAdmission(inFlight, OPTS);
    expect(d.admitted).toBe(admitted);
    expect(d.admitted ? undefined : d.retryAfterS).toBe(retryAfterS);
  });
});

describe('Admission', () => {
  function controller(counts: number[], opts: Partial<AdmissionOptions> = {}) {
    let clock = 0;
    let calls = 0;
    const errors: unknown[] = [];
    const admission = new Admission(
      { ...OPTS, maxInFlight: 3, ...opts },
      () => {
        const n = counts[Math.min(calls, counts.length - 1)]!;
        calls += 1;
        return n < 0 ? Promise.reject(new Error('count failed')) : Promise.resolve(n);
      },
      (err) => errors.push(err),
      () => clock,
    );
    return {
      admission,
      advance: (ms: number) => (clock += ms),
      calls: () => calls,
      errors,
    };
  }

  it('counts once per refresh interval and adds what it accepted in between', async () => {
    const c = controller([1, 0]);
    expect((await c.admission.check()).admitted).toBe(true);
    c.admission.accepted();
    expect((await c.admission.check()).inFlight).toBe(2);
    c.admission.accepted();
    const third = await c.admission.check();
    expect(third).toMatchObject({ admitted: false, inFlight: 3 });
    expect(c.calls()).toBe(1);
    // After the interval the count is taken again (the sagas finished): admitted again.
    c.advance(1000);
    expect(await c.admission.check()).toEqual({ admitted: true, inFlight: 0 });
    expect(c.calls()).toBe(2);
  });

  it('concurrent requests share one count', async () => {
    const c = controller([2]);
    const all = await Promise.all(Array.from({ length: 20 }, () => c.admission.check()));
    expect(c.calls()).toBe(1);
    expect(all.every((d) => d.inFlight === 2)).toBe(true);
  });

  it('a failing count keeps the last one (fails open) and reports the error', async () => {
    const c = controller([5, -1]);
    expect((await c.admission.check()).admitted).toBe(false);
    c.advance(1000);
    expect(await c.admission.check()).toMatchObject({ admitted: false, inFlight: 5 });
    expect(c.errors).toHaveLength(1);
  });
});
