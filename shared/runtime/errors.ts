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

/**
 * A message this code cannot process yet, though newer code can: retried (HTTP 500), then dead-lettered with
 * `reason` and redriven once code that knows it runs. Never poison, never acted on.
 */
export abstract class HeldError extends TransientError {
  abstract readonly reason: 'UNKNOWN_DEFINITION_VERSION' | 'UNSUPPORTED_VERSION';
}

/** The saga runs on a definition version this code does not know (a newer deployment started it). */
export class UnknownDefinitionVersionError extends HeldError {
  readonly reason = 'UNKNOWN_DEFINITION_VERSION';
  constructor(
    readonly sagaId: string,
    readonly sagaType: string,
    readonly version: number,
    known: readonly number[],
  ) {
    super(
      `saga ${sagaId} runs on ${sagaType} definition version ${version}, which this code does not know (known: ${known.join(', ') || 'none'})`,
    );
  }
}

/** The message is of a schema version newer than this consumer reads. */
export class UnsupportedVersionError extends HeldError {
  readonly reason = 'UNSUPPORTED_VERSION';
  constructor(
    readonly version: number,
    known: readonly number[],
  ) {
    super(`message version ${version} is newer than this consumer reads (${known.join(', ')})`);
  }
}

/** Test-only fault injection (SAGA_FAULTS): the process dies to simulate a crash at a precise point. */
export class InjectedCrash extends SagaError {
  readonly retryable = true;
}

/** The gRPC status codes the code checks (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GRPC = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const GRPC_NAMES = Object.fromEntries(Object.entries(GRPC).map(([name, code]) => [code, name])) as Record<
  number,
  string
>;

/** The gRPC status code of an error from a Google Cloud client (Firestore, Pub/Sub), or null for anything else. */
export function grpcCode(err: unknown): number | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16 ? code : null;
}

/** The name of a gRPC status code (`NOT_FOUND`), or null. */
export function grpcCodeName(err: unknown): string | null {
  const code = grpcCode(err);
  return code === null ? null : (GRPC_NAMES[code] ?? null);
}

/**
 * Codes a retry of the same message can never fix: the request itself is wrong (INVALID_ARGUMENT, OUT_OF_RANGE),
 * what it needs is gone (NOT_FOUND: e.g. an update of a deleted document), the system is not in the state it needs
 * (FAILED_PRECONDITION), or the operation does not exist (UNIMPLEMENTED). Not here: ALREADY_EXISTS (a consumer
 * retried after a concurrent create takes its duplicate path), PERMISSION_DENIED / UNAUTHENTICATED (credentials and
 * IAM bindings are fixed or refreshed while Pub/Sub retries), and everything transient.
 */
const PERMANENT_CODES: ReadonlySet<number> = new Set([
  GRPC.INVALID_ARGUMENT,
  GRPC.NOT_FOUND,
  GRPC.FAILED_PRECONDITION,
  GRPC.OUT_OF_RANGE,
  GRPC.UNIMPLEMENTED,
]);

/**
 * INVALID_ARGUMENT / FAILED_PRECONDITION that are about a transaction (expired, its base version overtaken by a
 * concurrent write, lock timeouts) or an index still building: contention or a passing state, so retried.
 */
const PASSING_STATE = /transaction|contention|base version|stored version|lock|currently building/i;

/**
 * Whether a retry can help. Our errors say so themselves; a Google Cloud client's error is permanent when its gRPC
 * code is (see PERMANENT_CODES); anything else (SDK, network, bugs) is treated as retryable: redelivery is safe
 * because every consumer is idempotent.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof SagaError) return err.retryable;
  const code = grpcCode(err);
  if (code === null || !PERMANENT_CODES.has(code)) return true;
  if (code === GRPC.INVALID_ARGUMENT || code === GRPC.FAILED_PRECONDITION) {
    return PASSING_STATE.test(errorMessage(err));
  }
  return false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
