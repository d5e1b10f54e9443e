/**
 * One error hierarchy. Every error says whether retrying can help and keeps its cause.
 * Consumers map: retryable → HTTP 500 (Pub/Sub redelivers); permanent → dead letter + 204 (never retried).
 */
export abstract class SagaError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something outside us failed in a way that may pass (network, gateway 5xx, Firestore contention). */
export class TransientError extends SagaError {
  readonly retryable = true;
}

/** The message or request can never be processed as it is (not JSON, schema violation, unknown type). */
export class PermanentError extends SagaError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Test-only fault injection (SAGA_FAULTS): the process dies to simulate a crash at a precise point. */
export class InjectedCrash extends SagaError {
  readonly retryable = true;
}

/** Unknown errors (SDK, bugs) are treated as retryable: redelivery is safe because every consumer is idempotent. */
export function isRetryable(err: unknown): boolean {
  return err instanceof SagaError ? err.retryable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
