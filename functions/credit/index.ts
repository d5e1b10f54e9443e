import { pushHandler } from '../../shared/runtime/http/push-handler';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { parseCommand } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { creditParticipant } from './service';

export const credit = pushHandler(TOPICS.creditCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, creditParticipant(ctx.db), parseCommand(push));
});
