import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { pushSpanOptions } from '../../shared/runtime/http/push-handler';
import { inSpan } from '../../shared/runtime/telemetry/tracing';
import { errorMessage, HeldError, isRetryable, PermanentError } from '../../shared/runtime/errors';
import { errorBody, refuseNonPost } from '../../shared/runtime/http/error-body';
import { parsePushEnvelope } from '../../shared/runtime/push';
import type { RuntimeContext } from '../../shared/runtime/context';
import { context } from '../context';
import {
  classifyDeadLetter,
  endStepOf,
  recordDeadLetter,
  type DeadLetterReason,
} from '../../shared/runtime/dead-letters';

/**
 * Subscribed to every `*-dlq` topic: records each message durably (with why it got here), ends a dead-lettered
 * command's step, acks. A message held for newer code (UNSUPPORTED_VERSION, UNKNOWN_DEFINITION_VERSION) ends
 * nothing: it waits for a redrive once that code runs.
 */
export const deadLetters: HttpFunction = deadLettersHandler(context);

/** The dead-letters function on a given context (tests run it on theirs). */
export function deadLettersHandler(ctxOf: () => RuntimeContext): HttpFunction {
  return async (req, res) => {
    if (refuseNonPost(req, res)) return;
    const ctx = ctxOf();
    // The dead letter keeps its message's attributes, so this span (and the step it ends) is in the saga's trace.
    await inSpan('process dead letter', pushSpanOptions('*-dlq', req.body), () => handle(ctx, req, res));
  };
}

async function handle(ctx: RuntimeContext, req: Request, res: Response): Promise<void> {
  let push;
  try {
    push = parsePushEnvelope(req.body);
  } catch (err) {
    ctx.log.error('dead-letters received a request that is not a push envelope', {
      error: errorMessage(err),
    });
    res.status(400).json(errorBody('INVALID_ARGUMENT', errorMessage(err)));
    return;
  }
  let id: string;
  let why: DeadLetterReason;
  try {
    why = await classifyDeadLetter(ctx, push);
    id = await recordDeadLetter(ctx.deadLetters, ctx.topology, push, why);
  } catch (err) {
    // Never permanent (DeadLetterStore.record sanitizes and bounds everything it writes): retry.
    ctx.log.error('could not record dead letter; retrying', { error: err });
    res.status(500).end();
    return;
  }
  const log = ctx.log.child({ sagaId: push.attributes.sagaId });
  log.warn('dead letter recorded', { deadLetterId: id, reason: why.reason });
  if (why.reason !== 'MAX_DELIVERY_ATTEMPTS') {
    log.warn('dead letter held for code that knows its version: redrive it once that code runs', {
      deadLetterId: id,
      detail: why.detail,
    });
    res.status(204).end();
    return;
  }
  try {
    const ended = await endStepOf(ctx, push);
    if (ended) log.info('dead-lettered command timed its step out', { deadLetterId: id, ...ended });
    res.status(204).end();
  } catch (err) {
    // HeldError: its saga's version became unknown here since it was classified; the record stands for a redrive.
    if (err instanceof PermanentError || err instanceof HeldError || !isRetryable(err)) {
      // e.g. the saga does not exist (a forged or stale command): the record stands, there is no step to end.
      log.warn('dead letter recorded; its saga cannot be advanced', { deadLetterId: id, error: err });
      res.status(204).end();
      return;
    }
    log.error("could not end the dead-lettered command's step; retrying", { deadLetterId: id, error: err });
    res.status(500).end();
  }
}
