/** Which errors a retry can fix (isRetryable), and the one place gRPC codes are read (grpcCode). Pure. */
import {
  GRPC,
  grpcCode,
  grpcCodeName,
  InjectedCrash,
  isRetryable,
  PermanentError,
  TransientError,
} from '../../shared/runtime/errors';

/** What a Google Cloud client rejects with: an Error with a numeric gRPC code. */
function grpcError(code: number, message: string): Error {
  return Object.assign(new Error(`${code} ${message}`), { code, details: message });
}

describe('grpcCode', () => {
  test.each([
    [grpcError(5, 'NOT_FOUND: no entity to update'), 5, 'NOT_FOUND'],
    [grpcError(6, 'ALREADY_EXISTS: entity exists'), 6, 'ALREADY_EXISTS'],
    [{ code: 0 }, 0, 'OK'],
    [{ code: 16 }, 16, 'UNAUTHENTICATED'],
  ])('reads the numeric code of %p', (err, code, name) => {
    expect(grpcCode(err)).toBe(code);
    expect(grpcCodeName(err)).toBe(name);
  });

  test.each([
    ['a Node errno code', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })],
    ['an HTTP status', { code: 404 }],
    ['a negative number', { code: -1 }],
    ['a fraction', { code: 3.5 }],
    ['no code', new Error('x')],
    ['not an object', 'boom'],
    ['null', null],
  ])('is null for %s', (_what, err) => {
    expect(grpcCode(err)).toBeNull();
    expect(grpcCodeName(err)).toBeNull();
  });
});

describe('isRetryable', () => {
  test.each([
    ['NOT_FOUND (update of a deleted document)', grpcError(GRPC.NOT_FOUND, 'NOT_FOUND: no entity to update')],
    [
      'INVALID_ARGUMENT',
      grpcError(GRPC.INVALID_ARGUMENT, 'INVALID_ARGUMENT: Property a contains an invalid nested entity'),
    ],
    [
      'FAILED_PRECONDITION (not about a transaction)',
      grpcError(GRPC.FAILED_PRECONDITION, 'FAILED_PRECONDITION: the database is not in Native mode'),
    ],
    ['OUT_OF_RANGE', grpcError(GRPC.OUT_OF_RANGE, 'OUT_OF_RANGE: value too large')],
    ['UNIMPLEMENTED', grpcError(GRPC.UNIMPLEMENTED, 'UNIMPLEMENTED: not supported')],
    ['a PermanentError', new PermanentError('bad', 'SCHEMA_VIOLATION')],
  ])('%s can never succeed on retry', (_what, err) => {
    expect(isRetryable(err)).toBe(false);
  });

  test.each([
    ['ABORTED (contention)', grpcError(GRPC.ABORTED, 'ABORTED: too much contention on these documents')],
    ['UNAVAILABLE', grpcError(GRPC.UNAVAILABLE, 'UNAVAILABLE: connection reset')],
    ['DEADLINE_EXCEEDED', grpcError(GRPC.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED')],
    ['RESOURCE_EXHAUSTED', grpcError(GRPC.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED: quota')],
    ['INTERNAL', grpcError(GRPC.INTERNAL, 'INTERNAL')],
    ['ALREADY_EXISTS (a retry takes the duplicate path)', grpcError(GRPC.ALREADY_EXISTS, 'ALREADY_EXISTS')],
    [
      'PERMISSION_DENIED (IAM is fixed while Pub/Sub retries)',
      grpcError(GRPC.PERMISSION_DENIED, 'PERMISSION_DENIED'),
    ],
    ['UNAUTHENTICATED (credentials refresh)', grpcError(GRPC.UNAUTHENTICATED, 'UNAUTHENTICATED')],
    [
      'INVALID_ARGUMENT for an expired transaction',
      grpcError(
        GRPC.INVALID_ARGUMENT,
        'INVALID_ARGUMENT: The referenced transaction has expired or is no longer valid',
      ),
    ],
    [
      'FAILED_PRECONDITION for a transaction contention',
      grpcError(
        GRPC.FAILED_PRECONDITION,
        'FAILED_PRECONDITION: the stored version (1) does not match the required base version (0)',
      ),
    ],
    [
      'FAILED_PRECONDITION for an index still building',
      grpcError(
        GRPC.FAILED_PRECONDITION,
        'FAILED_PRECONDITION: The query requires an index. That index is currently building',
      ),
    ],
    ['a TransientError', new TransientError('gateway 503')],
    [
      'a TransientError wrapping a NOT_FOUND publish',
      new TransientError('publish failed', { cause: grpcError(5, 'topic') }),
    ],
    ['an InjectedCrash', new InjectedCrash('crash')],
    ['an unknown error', new Error('bug')],
    ['a non-error', 'boom'],
  ])('%s is retried', (_what, err) => {
    expect(isRetryable(err)).toBe(true);
  });
});
