import type { HttpFunction } from '@google-cloud/functions-framework';
import { errorMessage } from '../../shared/errors';
import { errorBody, refuseNonPost } from '../../shared/http/error-body';
import { parsePushEnvelope } from '../../shared/push';
import { context } from '../context';
import { recordDeadLetter } from './service';

/** Subscribed to every `*-dlq` topic: records each message durably, then acks. */
export const deadLetters: HttpFunction = async (req, res) => {
  if (refuseNonPost(req, res)) return;
  const ctx = context();
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
  try {
    const id = await recordDeadLetter(ctx.deadLetters, push);
    ctx.log.child({ sagaId: push.attributes.sagaId }).warn('dead letter recorded', { deadLetterId: id });
    res.status(204).end();
  } catch (err) {
    ctx.log.error('could not record dead letter; retrying', { error: err });
    res.status(500).end();
  }
};
