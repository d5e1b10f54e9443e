/**
 * Admission control: the api refuses a new saga (429 RESOURCE_EXHAUSTED + Retry-After) before writing anything
 * when the sagas already in flight would take longer than SAGA_MAX_QUEUE_S to finish at SAGA_THROUGHPUT_PER_S, the
 * rate this deployment finishes sagas. Accepted sagas then wait in queues for bounded time instead of piling up:
 * load degrades into latency and explicit "try again later", never into failed sagas.
 *
 * Cheap: an api instance counts the running sagas with one aggregation query (an index count, not a scan of
 * documents) at most every SAGA_ADMISSION_REFRESH_MS, shared by concurrent requests, and adds the sagas it accepted
 * since. Several instances each add only their own, so the bound is approximate — by design it errs by at most
 * (instances × what one instance accepts in a refresh interval).
 */
import type { RuntimeContext } from './context';

export interface AdmissionOptions {
  maxInFlight: number;
  throughputPerS: number;
  refreshMs: number;
}

export type AdmissionDecision =
  { admitted: true; inFlight: number } | { admitted: false; inFlight: number; retryAfterS: number };

export const MAX_RETRY_AFTER_S = 60;

/** Pure: admit below the bound; otherwise ask the client to wait until the excess has drained at the throughput. */
export function decideAdmission(inFlight: number, opts: AdmissionOptions): AdmissionDecision {
  if (inFlight < opts.maxInFlight) return { admitted: true, inFlight };
  const excess = inFlight - opts.maxInFlight + 1;
  const retryAfterS = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(excess / opts.throughputPerS)));
  return { admitted: false, inFlight, retryAfterS };
}

export class Admission {
  private counted = 0;
  private countedAt = Number.NEGATIVE_INFINITY;
  private acceptedSince = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly opts: AdmissionOptions,
    /** Counts the sagas in flight (STARTED or COMPENSATING). */
    private readonly countRunning: () => Promise<number>,
    private readonly onCountError: (err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  async check(): Promise<AdmissionDecision> {
    if (this.clock() - this.countedAt >= this.opts.refreshMs) await this.refresh();
    return decideAdmission(this.counted + this.acceptedSince, this.opts);
  }

  /** A saga this instance committed since the last count. */
  accepted(): void {
    this.acceptedSince += 1;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const before = this.acceptedSince;
        this.counted = await this.countRunning();
        // What was accepted while counting may or may not be in the count: keep it (errs towards refusing).
        this.acceptedSince -= before;
      } catch (err) {
        // Fail open with the last count: a failing count must not stop orders the transaction can still take.
        this.onCountError(err);
      } finally {
        this.countedAt = this.clock();
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}

/** The admission controller of an api instance, from the configuration (one per process: its count is shared). */
export function admissionFromConfig(ctx: RuntimeContext): Admission {
  return new Admission(
    {
      maxInFlight: ctx.config.maxInFlight,
      throughputPerS: ctx.config.throughputPerS,
      refreshMs: ctx.config.admissionRefreshMs,
    },
    () => ctx.sagas.countRunning(),
    (err) => ctx.log.warn('could not count the sagas in flight; admitting on the last count', { error: err }),
  );
}
