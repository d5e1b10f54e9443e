/**
 * The thin shape of every Pub/Sub push consumer: parse envelope → one service call → ack (204) or retry (500).
 * A message that can never be processed (PermanentError: not JSON, schema violation, unknown type; or a Google Cloud
 * error no retry can fix, e.g. NOT_FOUND when a document to update was deleted — see isRetryable) is recorded as a
 * dead letter at once, with that reason (the gRPC code's name for a client error), and acknowledged, instead of
 * burning retries and, on an ordered subscription, blocking its ordering key meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { HttpFunction } from '@google-cloud/functions-framework';
import { errorMessage, grpcCodeName, HeldError, isRetryable, PermanentError } from '../errors';
import type { Logger } from '../log';
import { errorBody, refuseNonPost } from './error-body';
import { emptyMetrics, measure, metricsFields } from '../metrics';
import { parsePushEnvelope, type PushMessage } from '../push';
import { sagaMetrics } from '../telemetry/metrics';
import type { DeadLetterStore } from '../store/dead-letters';
import {
  extractContext,
  inSpan,
  SpanKind,
  SpanStatusCode,
  type Span,
  type SpanOptions,
} from '../telemetry/tracing';

export interface PushHandlerDeps {
  deadLetters: DeadLetterStore;
  log: Logger;
}

/**
 * `traceRoot: false`: a delivery without trace context starts no trace (the sweeper's ticks: a trace every tick
 * would say nothing about any saga; the sweeper's work on a saga is a span in that saga's trace).
 */
export function pushHandler(
  sourceTopic: string,
  deps: () => PushHandlerDeps,
  handle: (push: PushMessage) => Promise<void>,
  opts: { traceRoot?: boolean } = {},
): HttpFunction {
  return async (req, res) => {
    const { deadLetters, log } = deps();
    if (refuseNonPost(req, res)) return;
    // The delivery's span continues the trace its message carries (the saga's), or starts one.
    const spanOpts = pushSpanOptions(sourceTopic, req.body, opts.traceRoot ?? true);
    await inSpan(`process ${sourceTopic}`, spanOpts, (span) =>
      handleDelivery(span, req, res, deadLetters, log),
    );
  };

  async function handleDelivery(
    span: Span,
    req: Parameters<HttpFunction>[0],
    res: Parameters<HttpFunction>[1],
    deadLetters: DeadLetterStore,
    log: Logger,
  ): Promise<void> {
    let push: PushMessage | null = null;
    const startedAt = Date.now();
    const t0 = performance.now();
    const metrics = emptyMetrics();
    let outcome = 'ok';
    try {
      push = parsePushEnvelope(req.body);
      const message = push;
      await measure(metrics, () => handle(message));
      res.status(204).end();
    } catch (err) {
      outcome = 'retry';
      const msgLog = log.child({ sagaId: push?.attributes.sagaId, messageId: push?.attributes.messageId });
      if (err instanceof PermanentError || !isRetryable(err)) {
        const reason = err instanceof PermanentError ? err.reason : (grpcCodeName(err) ?? 'UNPROCESSABLE');
        outcome = 'dead-letter';
        try {
          const bytes = push ? push.bytes : requestBytes(req);
          const id = await deadLetters.record({
            sourceTopic,
            subscription: push?.subscription ?? null,
            data: push?.text ?? bytes.toString('utf8'),
            bytes,
            attributes: push?.attributes ?? {},
            orderingKey: push?.orderingKey ?? null,
            deliveryCount: push?.deliveryAttempt ?? null,
            reason,
            detail: errorMessage(err),
            // A push message is recorded once however often it is redelivered; a request that is not a push
            // envelope has no identity of its own, so each one gets its own record.
            dedupeKey: push ? (push.pubsubMessageId ?? push.text) : `request:${randomUUID()}`,
          });
          msgLog.warn('unprocessable message recorded as dead letter', {
            reason,
            deadLetterId: id,
            error: err,
          });
          res.status(204).end();
        } catch (recordErr) {
          msgLog.error('could not record dead letter; retrying', { error: recordErr });
          res.status(500).end();
        }
        return;
      }
      if (err instanceof HeldError) {
        // Newer code can process it: redelivered, then dead-lettered with this reason, redriven once it runs.
        outcome = 'held';
        msgLog.warn('message held for code that knows its version; Pub/Sub will redeliver', {
          reason: err.reason,
          error: err,
        });
        res.status(500).json(errorBody(err.reason, errorMessage(err)));
        return;
      }
      msgLog.warn('transient failure; Pub/Sub will redeliver', { error: err });
      res.status(500).json(errorBody('RETRY', errorMessage(err)));
    } finally {
      // One line per delivery: what it cost (writes, transactions) and where its time went (see shared/runtime/metrics.ts).
      const published = push?.publishTime ? Date.parse(push.publishTime) : NaN;
      if (Number.isFinite(published)) {
        sagaMetrics().queueTime(sourceTopic, startedAt - published);
      }
      log
        .child({ sagaId: push?.attributes.sagaId, messageId: push?.attributes.messageId })
        .info('message handled', {
          topic: sourceTopic,
          outcome,
          ...metricsFields(metrics),
          handlerMs: Math.round((performance.now() - t0) * 10) / 10,
          // Publish → handler start: Pub/Sub's queueing and push delivery (ms clock of the publishing host).
          ...(Number.isFinite(published) ? { queuedMs: startedAt - published } : {}),
        });
      span.setAttribute('saga.outcome', outcome);
      if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    }
  }
}

/** The span of one push delivery: under the context its message's attributes carry, else a trace of its own. */
export function pushSpanOptions(sourceTopic: string, body: unknown, root = true): SpanOptions {
  const attributes = looseAttributes(body);
  const pubsubId = looseMessageId(body);
  return {
    kind: SpanKind.CONSUMER,
    parent: extractContext(attributes),
    root,
    attributes: {
      'messaging.system': 'gcp_pubsub',
      'messaging.destination.name': sourceTopic,
      'messaging.operation.type': 'process',
      ...(pubsubId !== undefined ? { 'messaging.message.id': pubsubId } : {}),
      ...(attributes.sagaId !== undefined ? { 'saga.id': attributes.sagaId } : {}),
      ...(attributes.messageId !== undefined ? { 'saga.message_id': attributes.messageId } : {}),
      ...(attributes.redrivenFrom !== undefined ? { 'saga.redriven_from': attributes.redrivenFrom } : {}),
    },
  };
}

/** The string attributes of a push body, before it is validated (only to find the trace context). */
function looseAttributes(body: unknown): Record<string, string> {
  const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
  const raw =
    typeof message === 'object' && message !== null && 'attributes' in message
      ? message.attributes
      : undefined;
  if (typeof raw !== 'object' || raw === null) return {};
  return Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    ),
  );
}

function looseMessageId(body: unknown): string | undefined {
  const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
  const id =
    typeof message === 'object' && message !== null && 'messageId' in message ? message.messageId : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** The body of a request that is not a push envelope, as bytes: as sent (the framework keeps it), else as JSON. */
function requestBytes(req: { body?: unknown; rawBody?: Buffer }): Buffer {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  const body = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- typed string, it returns undefined for a function
  return Buffer.from(JSON.stringify(body ?? null) ?? 'null', 'utf8');
}
