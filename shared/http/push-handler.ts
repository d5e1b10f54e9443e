/**
 * The thin shape of every Pub/Sub push consumer: parse envelope → one service call → ack (204) or retry (500).
 * A message that can never be processed (PermanentError: not JSON, schema violation, unknown type) is recorded as a
 * dead letter at once and acknowledged, instead of burning retries.
 */
import { performance } from 'node:perf_hooks';
import type { HttpFunction } from '@google-cloud/functions-framework';
import { errorMessage, isRetryable, PermanentError } from '../errors';
import type { Logger } from '../log';
import { errorBody, refuseNonPost } from './error-body';
import { emptyMetrics, measure, metricsFields } from '../metrics';
import { parsePushEnvelope, type PushMessage } from '../push';
import type { DeadLetterStore } from '../store/dead-letters';

export interface PushHandlerDeps {
  deadLetters: DeadLetterStore;
  log: Logger;
}

export function pushHandler(
  sourceTopic: string,
  deps: () => PushHandlerDeps,
  handle: (push: PushMessage) => Promise<void>,
): HttpFunction {
  return async (req, res) => {
    const { deadLetters, log } = deps();
    if (refuseNonPost(req, res)) return;
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
        const reason = err instanceof PermanentError ? err.reason : 'UNPROCESSABLE';
        outcome = 'dead-letter';
        try {
          const id = await deadLetters.record({
            sourceTopic,
            subscription: push?.subscription ?? null,
            data: push?.text ?? JSON.stringify(req.body ?? null),
            attributes: push?.attributes ?? {},
            deliveryCount: push?.deliveryAttempt ?? null,
            reason,
            detail: errorMessage(err),
            dedupeKey: push?.pubsubMessageId ?? push?.text ?? 'unknown',
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
      msgLog.warn('transient failure; Pub/Sub will redeliver', { error: err });
      res.status(500).json(errorBody('RETRY', errorMessage(err)));
    } finally {
      // One line per delivery: what it cost (writes, transactions) and where its time went (see shared/metrics.ts).
      const published = push?.publishTime ? Date.parse(push.publishTime) : NaN;
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
    }
  };
}
