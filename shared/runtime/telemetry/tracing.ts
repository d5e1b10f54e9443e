/**
 * Tracing, on the OpenTelemetry API only (the SDK is installed, or not, by tracing-sdk.ts): one trace per saga.
 *
 * The context travels as a W3C `traceparent` (and `tracestate`) **message attribute**, written when a message is
 * recorded in an outbox (consumer.ts) — not when it is published — so a message republished later by the sweeper,
 * replayed by a duplicate delivery, dead-lettered or redriven keeps the context of the span that decided it. The
 * saga document keeps its api span's `traceparent` (`SagaDoc.trace`) for what the sweeper issues on its own
 * (timeouts, re-issued compensations).
 *
 * Why not `@google-cloud/pubsub`'s own tracing (`enableOpenTelemetryTracing`): it injects `googclient_traceparent`
 * from whatever context is active at publish time (the outbox publishes later, from other processes), starts the
 * batch's `send` span as a trace of its own (linked, not parented), is switched on process-wide, and only its pull
 * subscriber reads the attribute (our consumers are push endpoints). We read `googclient_traceparent` too, when a
 * message has no `traceparent` (published by a tool with that tracing on).
 *
 * Without an installed SDK (SAGA_TRACING=off) every function here is the API's no-op: no span is recorded, no
 * attribute is written, nothing is read.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

export const TRACER_NAME = 'gcp-saga';
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
/** What `@google-cloud/pubsub`'s own tracing writes (read as a fallback, never written). */
export const PUBSUB_TRACEPARENT = 'googclient_traceparent';
/** Set on the spans that may start a trace (the sampler records no other root: see tracing-sdk.ts). */
export const ROOT_ATTRIBUTE = 'saga.trace_root';

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

type Carrier = Readonly<Record<string, string | undefined>>;

const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    if (key === TRACEPARENT) return carrier[TRACEPARENT] ?? carrier[PUBSUB_TRACEPARENT];
    if (key === TRACESTATE) return carrier[TRACEPARENT] ? carrier[TRACESTATE] : carrier.googclient_tracestate;
    return carrier[key];
  },
};

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The trace context `attributes` carry (a message's attributes, HTTP headers), on top of `base`. */
export function extractContext(attributes: Carrier, base: Context = ROOT_CONTEXT): Context {
  return propagation.extract(base, attributes, getter);
}

/** The context of the active span as attributes (`traceparent`, maybe `tracestate`); {} without tracing. */
export function traceAttributes(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  propagation.inject(ctx, out, setter);
  return out;
}

/** The active span's `traceparent`, or undefined (no SDK, or no valid span). */
export function currentTraceparent(): string | undefined {
  return traceAttributes()[TRACEPARENT];
}

/**
 * `messages` with `stamp` (default: the active span's context) as attributes, unless a message already carries
 * one (a message is stamped once, where it is first recorded). The same array when there is nothing to add.
 */
export function withTraceContext<M extends { attributes: Record<string, string> }>(
  messages: M[],
  stamp: Record<string, string> = traceAttributes(),
): M[] {
  if (stamp[TRACEPARENT] === undefined) return messages;
  return messages.map((m) =>
    m.attributes[TRACEPARENT] !== undefined ? m : { ...m, attributes: { ...m.attributes, ...stamp } },
  );
}

/** Trace id and span id of a `traceparent`, or null when it is not one. */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string } | null {
  const m = value === undefined ? null : TRACEPARENT_PATTERN.exec(value);
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return null;
  return { traceId: m[2]!, spanId: m[3]! };
}

/** The trace and span of the active span (valid ones only), for log lines. */
export function activeSpanIds(): { traceId: string; spanId: string } | null {
  const span = trace.getSpan(context.active());
  if (!span) return null;
  const sc = span.spanContext();
  return trace.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : null;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Start under this context instead of the active one (e.g. extracted from a message). */
  parent?: Context;
  /** This span may start a trace of its own (the sampler records no other root span). */
  root?: boolean;
}

/**
 * Runs `fn` in a new active span: an exception is recorded on it (status ERROR) and rethrown; the span ends when
 * `fn` settles. `fn` may set a status itself (e.g. a 5xx answered without throwing).
 */
export async function inSpan<T>(name: string, opts: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const attributes = opts.root ? { ...opts.attributes, [ROOT_ATTRIBUTE]: true } : opts.attributes;
  return tracer().startActiveSpan(
    name,
    {
      kind: opts.kind ?? SpanKind.INTERNAL,
      ...(attributes ? { attributes } : {}),
      ...(opts.links ? { links: opts.links } : {}),
    },
    opts.parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Runs `fn` with the context of a stored `traceparent` active (the saga's), or as is without one. */
export function inTraceOf<T>(traceparent: string | undefined, fn: () => T): T {
  if (traceparent === undefined) return fn();
  return context.with(extractContext({ [TRACEPARENT]: traceparent }), fn);
}

/** A link to the active span (e.g. from a saga's span to the sweeper tick that found it). */
export function linkToActive(): Link[] {
  const span = trace.getSpan(context.active());
  const sc = span?.spanContext();
  // Only to a recorded span (a sweeper tick is not: see pushHandler's traceRoot).
  return sc && span?.isRecording() && trace.isSpanContextValid(sc) ? [{ context: sc }] : [];
}

export { SpanKind, SpanStatusCode };
export type { Span };
